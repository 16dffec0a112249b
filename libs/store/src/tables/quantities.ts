import type { PositionKey } from '@inventory/domain';
import { integerOf, integerOrNullOf, type IntegerColumn } from './columns';
import type { PositionKeyColumns } from './position-key';

/** The columns a supply row and a demand row share: the position, the quantity and when it last moved. */
export interface QuantityRow extends PositionKeyColumns {
  readonly quantity: IntegerColumn;
  /** Source time of the last sync applied, if any. */
  readonly last_sync_ms: IntegerColumn | null;
  readonly updated_ms: IntegerColumn;
}

/** A quantity as stored. */
export interface QuantityRecord<K> {
  readonly key: K;
  readonly quantity: number;
  /** Source time of the last sync applied, if any. */
  readonly lastSyncMs: number | null;
  readonly updateMs: number;
}

/**
 * One table of quantities (supply or demand): its row, how a key is written to and read from it. Both
 * directions are kept here so that a column is named and converted in one place.
 */
export interface QuantityRows<K extends PositionKey, R extends QuantityRow> {
  readonly table: string;
  readonly idColumn: string;
  /** The unique key's columns, in index order. */
  readonly keyColumnNames: readonly string[];
  keyColumns(key: K): PositionKeyColumns & Record<string, string | number>;
  keyOf(row: R): K;
  idOf(row: R): number;
}

export function quantityRecordOf<K extends PositionKey, R extends QuantityRow>(
  rows: QuantityRows<K, R>,
  row: R,
): QuantityRecord<K> {
  return {
    key: rows.keyOf(row),
    quantity: integerOf(row.quantity, `${rows.table}.quantity`),
    lastSyncMs: integerOrNullOf(row.last_sync_ms, `${rows.table}.last_sync_ms`),
    updateMs: integerOf(row.updated_ms, `${rows.table}.updated_ms`),
  };
}
