import { demandKeyId, type DemandKey } from '@inventory/domain';
import { DEMAND_ROWS, type DemandRow } from '../tables/demand';
import type { QuantityTable } from './quantities';

/** Demand positions: one row per item, node, segment, demand type and order reference. */
export const DEMAND: QuantityTable<DemandKey, DemandRow> = {
  ...DEMAND_ROWS,
  ledgerTable: 'demand_ledger',
  audited: false,
  orderColumns: ['demand_type', 'order_reference'],
  keyId: demandKeyId,
};
