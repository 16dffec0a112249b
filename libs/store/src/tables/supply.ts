import { requiresEta, SUPPLY_TYPES, type SupplyKey } from '@inventory/domain';
import { codeOf, integerOf, type IntegerColumn } from './columns';
import { POSITION_KEY_COLUMNS, positionKeyColumns, positionKeyOf } from './position-key';
import type { QuantityRow, QuantityRows } from './quantities';

/** A row of `supply`: one per item, node, segment, supply type and ETA. */
export interface SupplyRow extends QuantityRow {
  readonly supply_id: IntegerColumn;
  readonly supply_type: string;
  /** 0 for ONHAND, which has no ETA. */
  readonly eta_ms: IntegerColumn;
}

export const SUPPLY_ROWS: QuantityRows<SupplyKey, SupplyRow> = {
  table: 'supply',
  idColumn: 'supply_id',
  keyColumnNames: [...POSITION_KEY_COLUMNS, 'supply_type', 'eta_ms'],
  keyColumns: (key) => ({ ...positionKeyColumns(key), supply_type: key.supplyType, eta_ms: key.etaMs ?? 0 }),
  keyOf: (row) => {
    const supplyType = codeOf(SUPPLY_TYPES, row.supply_type, 'supply.supply_type');
    return {
      ...positionKeyOf(row),
      supplyType,
      etaMs: requiresEta(supplyType) ? integerOf(row.eta_ms, 'supply.eta_ms') : null,
    };
  },
  idOf: (row) => integerOf(row.supply_id, 'supply.supply_id'),
};
