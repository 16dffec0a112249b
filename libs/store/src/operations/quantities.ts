import type { Knex } from 'knex';
import type { ItemKey, SegmentKey, SupplyOutcome } from '@inventory/domain';

/**
 * Supply and demand are both quantities kept per key, set by syncs and moved by adjusts under the same
 * source-time rule, with an append-only ledger. This describes one such table so that one set of
 * operations serves both.
 */
export interface QuantityTable<K> {
  readonly table: string;
  readonly idColumn: string;
  readonly ledgerTable: string;
  /** The unique key's columns, in index order. */
  readonly keyColumnNames: readonly string[];
  readonly orderColumns: readonly string[];
  keyColumns(key: K): Record<string, string | number>;
  keyId(key: K): string;
  keyOf(row: Record<string, unknown>): K;
}

/** A quantity as stored. */
export interface QuantityRecord<K> {
  readonly key: K;
  readonly quantity: number;
  /** Source time of the last sync applied, if any. */
  readonly lastSyncMs: number | null;
  readonly updateMs: number;
}

/** A quantity row locked for the rest of the transaction. */
export interface LockedQuantity {
  readonly id: number;
  readonly quantity: number;
  readonly lastSyncMs: number | null;
}

const CHUNK = 200;

function toRecord<K>(spec: QuantityTable<K>, row: Record<string, unknown>): QuantityRecord<K> {
  return {
    key: spec.keyOf(row),
    quantity: Number(row.quantity),
    lastSyncMs: row.last_sync_ms === null ? null : Number(row.last_sync_ms),
    updateMs: Number(row.updated_ms),
  };
}

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
export async function lockQuantities<K>(
  spec: QuantityTable<K>,
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

async function selectForUpdate<K>(spec: QuantityTable<K>, trx: Knex.Transaction, keys: readonly K[]): Promise<Map<string, LockedQuantity>> {
  const found = new Map<string, LockedQuantity>();
  for (let i = 0; i < keys.length; i += CHUNK) {
    const tuples = keys.slice(i, i + CHUNK).map((k) => Object.values(spec.keyColumns(k)));
    const rows: Array<Record<string, unknown>> = await trx(spec.table).whereIn([...spec.keyColumnNames], tuples).forUpdate();
    for (const row of rows) {
      const record = toRecord(spec, row);
      found.set(spec.keyId(record.key), { id: Number(row[spec.idColumn]), quantity: record.quantity, lastSyncMs: record.lastSyncMs });
    }
  }
  return found;
}

/** Writes the new state of locked rows: one UPDATE per chunk, whatever the batch size. */
export async function updateQuantities<K>(
  spec: QuantityTable<K>,
  { trx, rows, nowMs }: { trx: Knex.Transaction; rows: readonly LockedQuantity[]; nowMs: number },
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const caseOf = (pick: (p: LockedQuantity) => number | null) =>
      trx.raw(`CASE ${spec.idColumn} ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`, chunk.flatMap((p) => [p.id, pick(p)]));
    await trx(spec.table)
      .whereIn(spec.idColumn, chunk.map((p) => p.id))
      .update({ quantity: caseOf((p) => p.quantity), last_sync_ms: caseOf((p) => p.lastSyncMs), updated_ms: nowMs });
  }
}

/**
 * The deltas applied to each row that are dated after `afterMs`, by row id, so that a sync can keep the
 * adjusts it does not cover. The caller holds the rows' locks, so no adjust can slip in between.
 */
export async function appliedAdjustsAfter<K>(
  spec: QuantityTable<K>,
  { trx, ids, afterMs }: { trx: Knex.Transaction; ids: readonly number[]; afterMs: number },
): Promise<Map<number, Array<{ sourceMs: number; delta: number }>>> {
  const byId = new Map<number, Array<{ sourceMs: number; delta: number }>>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await trx(spec.ledgerTable)
      .select(spec.idColumn, 'source_ms', 'quantity')
      .whereIn(spec.idColumn, ids.slice(i, i + CHUNK))
      .andWhere({ transaction_type: 'ADJUST', outcome: 'APPLIED' })
      .andWhere('source_ms', '>', afterMs);
    for (const r of rows) {
      const id = Number(r[spec.idColumn]);
      byId.set(id, [...(byId.get(id) ?? []), { sourceMs: Number(r.source_ms), delta: Number(r.quantity) }]);
    }
  }
  return byId;
}

/** One ledger row: what a sync or adjust line did to a quantity. */
export interface LedgerEntry {
  readonly actionId: string;
  readonly requestId: string;
  readonly rowId: number;
  readonly transactionType: 'SYNC' | 'ADJUST';
  readonly quantity: number;
  readonly sourceMs: number;
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
  readonly reason: string;
}

/** Appends to the ledger. Rows are never updated or deleted. */
export async function appendLedger<K>(
  spec: QuantityTable<K>,
  { trx, entries, nowMs }: { trx: Knex.Transaction; entries: readonly LedgerEntry[]; nowMs: number },
): Promise<void> {
  const rows = entries.map((e) => ({
    action_id: e.actionId,
    request_id: e.requestId,
    [spec.idColumn]: e.rowId,
    transaction_type: e.transactionType,
    quantity: e.quantity,
    source_ms: e.sourceMs,
    outcome: e.outcome,
    quantity_before: e.quantityBefore,
    quantity_after: e.quantityAfter,
    reason: e.reason,
    recorded_ms: nowMs,
  }));
  await trx.batchInsert(spec.ledgerTable, rows, CHUNK).transacting(trx);
}

/** Ledger rows of a request, in the order written (for tests and, later, the audit trail). */
export async function ledgerOfRequest<K>(spec: QuantityTable<K>, { db, requestId }: { db: Knex; requestId: string }) {
  return db(spec.ledgerTable).where({ request_id: requestId }).orderBy('ledger_id');
}

/** Every row of an item at the nodes, in the segment, in a stable order. */
export async function findQuantities<K>(
  spec: QuantityTable<K>,
  { db, item, nodeIds, segment }: { db: Knex; item: ItemKey; nodeIds: readonly string[]; segment: SegmentKey },
): Promise<Array<QuantityRecord<K>>> {
  const rows = await db(spec.table)
    .where({
      item_id: item.itemId,
      unit_of_measure: item.unitOfMeasure,
      product_class: item.productClass,
      segment_type: segment.segmentType,
      segment: segment.segment,
    })
    .whereIn('node_id', nodeIds)
    .orderBy(['node_id', ...spec.orderColumns]);
  return rows.map((r: Record<string, unknown>) => toRecord(spec, r));
}

/** Rows after `afterId` in id order (keyset pagination), optionally filtered. */
export async function listQuantities<K>(
  spec: QuantityTable<K>,
  { db, nodeId, itemId, afterId, limit }: { db: Knex; nodeId: string; itemId: string; afterId: number; limit: number },
): Promise<Array<{ id: number; record: QuantityRecord<K> }>> {
  const query = db(spec.table).where(spec.idColumn, '>', afterId).orderBy(spec.idColumn).limit(limit);
  if (nodeId) query.andWhere({ node_id: nodeId });
  if (itemId) query.andWhere({ item_id: itemId });
  const rows: Array<Record<string, unknown>> = await query;
  return rows.map((r) => ({ id: Number(r[spec.idColumn]), record: toRecord(spec, r) }));
}
