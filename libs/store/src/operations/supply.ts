import type { Knex } from 'knex';
import { supplyKeyId, type ItemKey, type SegmentKey, type Supply, type SupplyKey, type SupplyOutcome, type SupplyType } from '@inventory/domain';

interface SupplyRow {
  supply_id: number;
  item_id: string;
  unit_of_measure: string;
  product_class: string;
  node_id: string;
  segment_type: string;
  segment: string;
  supply_type: string;
  eta_ms: number;
  quantity: number;
  last_sync_ms: number | null;
  updated_ms: number;
}

/** A supply row locked for the rest of the transaction. */
export interface LockedPosition {
  readonly supplyId: number;
  readonly quantity: number;
  readonly lastSyncMs: number | null;
}

function keyColumns(key: SupplyKey) {
  return {
    item_id: key.item.itemId,
    unit_of_measure: key.item.unitOfMeasure,
    product_class: key.item.productClass,
    node_id: key.nodeId,
    segment_type: key.segment.segmentType,
    segment: key.segment.segment,
    supply_type: key.supplyType,
    eta_ms: key.etaMs ?? 0,
  };
}

function toSupply(row: SupplyRow): Supply {
  return {
    key: {
      item: { itemId: row.item_id, unitOfMeasure: row.unit_of_measure, productClass: row.product_class },
      nodeId: row.node_id,
      segment: { segmentType: row.segment_type, segment: row.segment },
      supplyType: row.supply_type as SupplyType,
      etaMs: row.supply_type === 'ONHAND' ? null : Number(row.eta_ms),
    },
    quantity: Number(row.quantity),
    lastSyncMs: row.last_sync_ms === null ? null : Number(row.last_sync_ms),
    updateMs: Number(row.updated_ms),
  };
}

const KEY_COLUMNS = ['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment', 'supply_type', 'eta_ms'];
const CHUNK = 200;

/**
 * Locks the rows of `keys`, creating missing ones at quantity 0, and returns them by supplyKeyId.
 *
 * Existing rows are locked with SELECT ... FOR UPDATE over the unique key, in chunks taken in supplyKeyId
 * order, so batches over the same positions lock them in the same order. Missing rows are then inserted
 * (a plain INSERT: INSERT IGNORE would take shared locks that deadlock with FOR UPDATE) and locked. A first
 * insert that races another transaction's first insert of the same position fails on the unique key, and
 * the caller's transaction is retried; so is the rare deadlock between batches whose chunks interleave.
 * (SQLite ignores FOR UPDATE: it runs one writer at a time.)
 */
export async function lockPositions({ trx, keys, nowMs }: { trx: Knex.Transaction; keys: readonly SupplyKey[]; nowMs: number }): Promise<Map<string, LockedPosition>> {
  const wanted = new Map(keys.map((k) => [supplyKeyId(k), k]));
  const ordered = [...wanted.keys()].sort().map((id) => wanted.get(id) as SupplyKey);
  const locked = await selectForUpdate(trx, ordered);
  const missing = ordered.filter((k) => !locked.has(supplyKeyId(k)));
  if (missing.length > 0) {
    const rows = missing.map((k) => ({ ...keyColumns(k), quantity: 0, last_sync_ms: null, updated_ms: nowMs }));
    await trx.batchInsert('supply', rows, CHUNK).transacting(trx);
    for (const [id, position] of await selectForUpdate(trx, missing)) locked.set(id, position);
  }
  return locked;
}

async function selectForUpdate(trx: Knex.Transaction, keys: readonly SupplyKey[]): Promise<Map<string, LockedPosition>> {
  const found = new Map<string, LockedPosition>();
  for (let i = 0; i < keys.length; i += CHUNK) {
    const tuples = keys.slice(i, i + CHUNK).map((k) => Object.values(keyColumns(k)));
    const rows: SupplyRow[] = await trx('supply').whereIn(KEY_COLUMNS, tuples).forUpdate();
    for (const row of rows) {
      const supply = toSupply(row);
      found.set(supplyKeyId(supply.key), { supplyId: Number(row.supply_id), quantity: supply.quantity, lastSyncMs: supply.lastSyncMs });
    }
  }
  return found;
}

/** Writes the new state of locked positions: one UPDATE per chunk, whatever the batch size. */
export async function updatePositions({ trx, positions, nowMs }: { trx: Knex.Transaction; positions: readonly LockedPosition[]; nowMs: number }): Promise<void> {
  for (let i = 0; i < positions.length; i += CHUNK) {
    const chunk = positions.slice(i, i + CHUNK);
    const caseOf = (pick: (p: LockedPosition) => number | null) =>
      trx.raw(`CASE supply_id ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`, chunk.flatMap((p) => [p.supplyId, pick(p)]));
    await trx('supply')
      .whereIn('supply_id', chunk.map((p) => p.supplyId))
      .update({ quantity: caseOf((p) => p.quantity), last_sync_ms: caseOf((p) => p.lastSyncMs), updated_ms: nowMs });
  }
}

/**
 * The deltas applied to each position that are dated after `afterMs`, by supply id, so that a sync can keep
 * the adjusts it does not cover. The caller holds the positions' locks, so no adjust can slip in between.
 */
export async function appliedAdjustsAfter(
  { trx, supplyIds, afterMs }: { trx: Knex.Transaction; supplyIds: readonly number[]; afterMs: number },
): Promise<Map<number, Array<{ sourceMs: number; delta: number }>>> {
  const bySupply = new Map<number, Array<{ sourceMs: number; delta: number }>>();
  for (let i = 0; i < supplyIds.length; i += CHUNK) {
    const rows = await trx('supply_ledger')
      .select('supply_id', 'source_ms', 'quantity')
      .whereIn('supply_id', supplyIds.slice(i, i + CHUNK))
      .andWhere({ transaction_type: 'ADJUST', outcome: 'APPLIED' })
      .andWhere('source_ms', '>', afterMs);
    for (const r of rows) {
      const id = Number(r.supply_id);
      bySupply.set(id, [...(bySupply.get(id) ?? []), { sourceMs: Number(r.source_ms), delta: Number(r.quantity) }]);
    }
  }
  return bySupply;
}

/** One ledger row: what a sync or adjust line did to a position. */
export interface LedgerEntry {
  readonly actionId: string;
  readonly requestId: string;
  readonly supplyId: number;
  readonly transactionType: 'SYNC' | 'ADJUST';
  readonly quantity: number;
  readonly sourceMs: number;
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
  readonly reason: string;
}

/** Appends to the ledger. Rows are never updated or deleted. */
export async function appendLedger({ trx, entries, nowMs }: { trx: Knex.Transaction; entries: readonly LedgerEntry[]; nowMs: number }): Promise<void> {
  const rows = entries.map((e) => ({
    action_id: e.actionId,
    request_id: e.requestId,
    supply_id: e.supplyId,
    transaction_type: e.transactionType,
    quantity: e.quantity,
    source_ms: e.sourceMs,
    outcome: e.outcome,
    quantity_before: e.quantityBefore,
    quantity_after: e.quantityAfter,
    reason: e.reason,
    recorded_ms: nowMs,
  }));
  await trx.batchInsert('supply_ledger', rows, CHUNK).transacting(trx);
}

/** Ledger rows of an action, in the order written (for tests and, later, the audit trail). */
export async function ledgerOfRequest({ db, requestId }: { db: Knex; requestId: string }) {
  return db('supply_ledger').where({ request_id: requestId }).orderBy('ledger_id');
}

/** Every position of an item at the nodes, in the segment, in a stable order. */
export async function findSupplies(
  { db, item, nodeIds, segment }: { db: Knex; item: ItemKey; nodeIds: readonly string[]; segment: SegmentKey },
): Promise<Supply[]> {
  const rows = await db<SupplyRow>('supply')
    .where({
      item_id: item.itemId,
      unit_of_measure: item.unitOfMeasure,
      product_class: item.productClass,
      segment_type: segment.segmentType,
      segment: segment.segment,
    })
    .whereIn('node_id', nodeIds)
    .orderBy(['node_id', 'supply_type', 'eta_ms']);
  return rows.map(toSupply);
}

/** Positions after `afterSupplyId` in id order (keyset pagination), optionally filtered. */
export async function listSupply(
  { db, nodeId, itemId, afterSupplyId, limit }: { db: Knex; nodeId: string; itemId: string; afterSupplyId: number; limit: number },
): Promise<Array<{ supplyId: number; supply: Supply }>> {
  const query = db<SupplyRow>('supply').where('supply_id', '>', afterSupplyId).orderBy('supply_id').limit(limit);
  if (nodeId) query.andWhere({ node_id: nodeId });
  if (itemId) query.andWhere({ item_id: itemId });
  const rows = await query;
  return rows.map((r) => ({ supplyId: Number(r.supply_id), supply: toSupply(r) }));
}
