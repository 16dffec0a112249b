import type { Knex } from 'knex';
import type { ItemKey, PositionKey, SegmentKey } from '@inventory/domain';
import { integerOf } from '../tables/columns';
import {
  ledgerColumns,
  ledgerRecordOf,
  ledgerRow,
  type LedgerEntry,
  type LedgerRecord,
  type LedgerRow,
} from '../tables/ledger';
import { quantityRecordOf, type QuantityRecord, type QuantityRow, type QuantityRows } from '../tables/quantities';
import { chunks } from './chunks';

export { plainAudit, type LedgerAudit, type LedgerEntry, type LedgerRecord } from '../tables/ledger';
export type { QuantityRecord } from '../tables/quantities';

/**
 * Supply and demand are both quantities kept per key, set by syncs and moved by adjusts under the same
 * source-time rule, with an append-only ledger. This describes one such table so that one set of
 * operations serves both.
 */
export interface QuantityTable<K extends PositionKey, R extends QuantityRow = QuantityRow> extends QuantityRows<K, R> {
  readonly ledgerTable: string;
  readonly orderColumns: readonly string[];
  /** Whether the ledger records each change's audit (purpose, audit type, actor, actions, allocation). */
  readonly audited: boolean;
  keyId(key: K): string;
}

/** A quantity row locked for the rest of the transaction. */
export interface LockedQuantity {
  readonly id: number;
  readonly quantity: number;
  readonly lastSyncMs: number | null;
}

const CHUNK = 200;

/**
 * Locks the rows of `keys`, creating missing ones at quantity 0, and returns them by key id.
 *
 * Existing rows are locked with SELECT ... FOR UPDATE over the unique key, in chunks taken in key-id order,
 * so batches over the same keys lock them in the same order. Missing rows are then inserted (a plain
 * INSERT: INSERT IGNORE would take shared locks that deadlock with FOR UPDATE) and locked. A first insert
 * that races another transaction's first insert of the same key fails on the unique key, and the caller's
 * transaction is retried; so is the rare deadlock between batches whose chunks interleave.
 * (SQLite ignores FOR UPDATE: it runs one writer at a time.)
 */
export async function lockQuantities<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { trx, keys, nowMs }: { trx: Knex.Transaction; keys: readonly K[]; nowMs: number },
): Promise<Map<string, LockedQuantity>> {
  const wanted = new Map(keys.map((k) => [spec.keyId(k), k]));
  const ordered = [...wanted.keys()].sort().map((id) => wanted.get(id) as K);
  const locked = await selectForUpdate(spec, trx, ordered);
  const missing = ordered.filter((k) => !locked.has(spec.keyId(k)));
  if (missing.length > 0) {
    const rows = missing.map((k) => ({ ...spec.keyColumns(k), quantity: 0, last_sync_ms: null, updated_ms: nowMs }));
    await trx.batchInsert(spec.table, rows, CHUNK).transacting(trx);
    for (const [id, row] of await selectForUpdate(spec, trx, missing)) locked.set(id, row);
  }
  return locked;
}

async function selectForUpdate<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  trx: Knex.Transaction,
  keys: readonly K[],
): Promise<Map<string, LockedQuantity>> {
  const found = new Map<string, LockedQuantity>();
  for (const chunk of chunks(keys, CHUNK)) {
    const tuples = chunk.map((k) => {
      const columns = spec.keyColumns(k);
      return spec.keyColumnNames.map((c) => columns[c] as string | number);
    });
    const rows: R[] = await trx(spec.table)
      .whereIn([...spec.keyColumnNames], tuples)
      .forUpdate();
    for (const row of rows) {
      const record = quantityRecordOf(spec, row);
      found.set(spec.keyId(record.key), {
        id: spec.idOf(row),
        quantity: record.quantity,
        lastSyncMs: record.lastSyncMs,
      });
    }
  }
  return found;
}

/** Writes the new state of locked rows: one UPDATE per chunk, whatever the batch size. */
export async function updateQuantities<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { trx, rows, nowMs }: { trx: Knex.Transaction; rows: readonly LockedQuantity[]; nowMs: number },
): Promise<void> {
  for (const chunk of chunks(rows, CHUNK)) {
    const caseOf = (pick: (p: LockedQuantity) => number | null) =>
      trx.raw(
        `CASE ${spec.idColumn} ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`,
        chunk.flatMap((p) => [p.id, pick(p)]),
      );
    await trx(spec.table)
      .whereIn(
        spec.idColumn,
        chunk.map((p) => p.id),
      )
      .update({ quantity: caseOf((p) => p.quantity), last_sync_ms: caseOf((p) => p.lastSyncMs), updated_ms: nowMs });
  }
}

/**
 * The deltas applied to each row that are dated after `afterMs`, by row id, so that a sync can keep the
 * adjusts it does not cover. The caller holds the rows' locks, so no adjust can slip in between.
 */
export async function appliedAdjustsAfter<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { trx, ids, afterMs }: { trx: Knex.Transaction; ids: readonly number[]; afterMs: number },
): Promise<Map<number, Array<{ sourceMs: number; delta: number }>>> {
  const byId = new Map<number, Array<{ sourceMs: number; delta: number }>>();
  for (const chunk of chunks(ids, CHUNK)) {
    const rows: Array<Pick<LedgerRow, 'row_id' | 'source_ms' | 'quantity'>> = await trx(spec.ledgerTable)
      .select({ row_id: spec.idColumn }, 'source_ms', 'quantity')
      .whereIn(spec.idColumn, chunk)
      .andWhere({ transaction_type: 'ADJUST', outcome: 'APPLIED' })
      .andWhere('source_ms', '>', afterMs);
    for (const r of rows) {
      const id = integerOf(r.row_id, `${spec.ledgerTable}.${spec.idColumn}`);
      const adjust = {
        sourceMs: integerOf(r.source_ms, `${spec.ledgerTable}.source_ms`),
        delta: integerOf(r.quantity, `${spec.ledgerTable}.quantity`),
      };
      byId.set(id, [...(byId.get(id) ?? []), adjust]);
    }
  }
  return byId;
}

/** Appends to the ledger. Rows are never updated or deleted. */
export async function appendLedger<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { trx, entries, nowMs }: { trx: Knex.Transaction; entries: readonly LedgerEntry[]; nowMs: number },
): Promise<void> {
  const rows = entries.map((e) => ledgerRow(spec.idColumn, e, nowMs, spec.audited));
  await trx.batchInsert(spec.ledgerTable, rows, CHUNK).transacting(trx);
}

/** Ledger rows of a request, in the order written (for tests and, later, the audit trail). */
export async function ledgerOfRequest<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { db, requestId }: { db: Knex; requestId: string },
): Promise<LedgerRecord[]> {
  const rows: LedgerRow[] = await db(spec.ledgerTable)
    .select(...ledgerColumns(spec.idColumn))
    .where({ request_id: requestId })
    .orderBy('ledger_id');
  return rows.map((r) => ledgerRecordOf(spec.ledgerTable, r));
}

/** Every row of an item at the nodes, in the segment, in a stable order. */
export async function findQuantities<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  { db, item, nodeIds, segment }: { db: Knex; item: ItemKey; nodeIds: readonly string[]; segment: SegmentKey },
): Promise<Array<QuantityRecord<K>>> {
  const rows: R[] = await db(spec.table)
    .where({
      item_id: item.itemId,
      unit_of_measure: item.unitOfMeasure,
      product_class: item.productClass,
      segment_type: segment.segmentType,
      segment: segment.segment,
    })
    .whereIn('node_id', nodeIds)
    .orderBy(['node_id', ...spec.orderColumns]);
  return rows.map((r) => quantityRecordOf(spec, r));
}

/** Rows after `afterId` in id order (keyset pagination), optionally filtered (`segment` undefined: every segment). */
export async function listQuantities<K extends PositionKey, R extends QuantityRow>(
  spec: QuantityTable<K, R>,
  {
    db,
    nodeId,
    itemId,
    segment,
    afterId,
    limit,
  }: { db: Knex; nodeId: string; itemId: string; segment?: SegmentKey; afterId: number; limit: number },
): Promise<Array<{ id: number; record: QuantityRecord<K> }>> {
  const query = db(spec.table).where(spec.idColumn, '>', afterId).orderBy(spec.idColumn).limit(limit);
  if (nodeId) query.andWhere({ node_id: nodeId });
  if (itemId) query.andWhere({ item_id: itemId });
  if (segment) query.andWhere({ segment_type: segment.segmentType, segment: segment.segment });
  const rows: R[] = await query;
  return rows.map((r) => ({ id: spec.idOf(r), record: quantityRecordOf(spec, r) }));
}
