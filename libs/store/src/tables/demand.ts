import { DEMAND_TYPES, type DemandKey } from '@inventory/domain';
import { codeOf, integerOf, type IntegerColumn } from './columns';
import { POSITION_KEY_COLUMNS, positionKeyColumns, positionKeyOf } from './position-key';
import type { QuantityRow, QuantityRows } from './quantities';

/** A row of `demand`: one per item, node, segment, demand type and order reference. */
export interface DemandRow extends QuantityRow {
  readonly demand_id: IntegerColumn;
  readonly demand_type: string;
  /** Empty for demand kept as one total. */
  readonly order_reference: string;
}

export const DEMAND_ROWS: QuantityRows<DemandKey, DemandRow> = {
  table: 'demand',
  idColumn: 'demand_id',
  keyColumnNames: [...POSITION_KEY_COLUMNS, 'demand_type', 'order_reference'],
  keyColumns: (key) => ({
    ...positionKeyColumns(key),
    demand_type: key.demandType,
    order_reference: key.orderReference,
  }),
  keyOf: (row) => ({
    ...positionKeyOf(row),
    demandType: codeOf(DEMAND_TYPES, row.demand_type, 'demand.demand_type'),
    orderReference: row.order_reference,
  }),
  idOf: (row) => integerOf(row.demand_id, 'demand.demand_id'),
};
