import { requiresEta, supplyKeyId, type SupplyKey, type SupplyType } from '@inventory/domain';
import { positionColumns, positionOfRow, type PositionKeyColumns } from './positions';
import type { QuantityTable } from './quantities';

/** Supply positions: one row per item, node, segment, supply type and ETA (0 for ONHAND). */
export const SUPPLY: QuantityTable<SupplyKey> = {
  table: 'supply',
  idColumn: 'supply_id',
  ledgerTable: 'supply_ledger',
  keyColumnNames: ['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment', 'supply_type', 'eta_ms'],
  orderColumns: ['supply_type', 'eta_ms'],
  keyColumns: (key) => ({
    ...positionColumns(key),
    supply_type: key.supplyType,
    eta_ms: key.etaMs ?? 0,
  }),
  keyId: supplyKeyId,
  keyOf: (row) => ({
    ...positionOfRow(row as unknown as PositionKeyColumns),
    supplyType: row.supply_type as SupplyType,
    etaMs: requiresEta(row.supply_type as SupplyType) ? Number(row.eta_ms) : null,
  }),
};
