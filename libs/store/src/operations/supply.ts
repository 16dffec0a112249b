import { supplyKeyId, type SupplyKey } from '@inventory/domain';
import { SUPPLY_ROWS, type SupplyRow } from '../tables/supply';
import type { QuantityTable } from './quantities';

/** Supply positions: one row per item, node, segment, supply type and ETA (0 for ONHAND). */
export const SUPPLY: QuantityTable<SupplyKey, SupplyRow> = {
  ...SUPPLY_ROWS,
  ledgerTable: 'supply_ledger',
  audited: true,
  orderColumns: ['supply_type', 'eta_ms'],
  keyId: supplyKeyId,
};
