import { demandKeyId, type DemandKey, type DemandType } from '@inventory/domain';
import { positionColumns, positionOfRow, type PositionKeyColumns } from './positions';
import type { QuantityTable } from './quantities';

/** Demand positions: one row per item, node, segment, demand type and order reference. */
export const DEMAND: QuantityTable<DemandKey> = {
  table: 'demand',
  idColumn: 'demand_id',
  ledgerTable: 'demand_ledger',
  keyColumnNames: ['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment', 'demand_type', 'order_reference'],
  orderColumns: ['demand_type', 'order_reference'],
  keyColumns: (key) => ({
    ...positionColumns(key),
    demand_type: key.demandType,
    order_reference: key.orderReference,
  }),
  keyId: demandKeyId,
  keyOf: (row) => ({ ...positionOfRow(row as unknown as PositionKeyColumns), demandType: row.demand_type as DemandType, orderReference: String(row.order_reference) }),
};
