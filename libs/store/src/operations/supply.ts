import type { Knex } from 'knex';
import type { ItemKey, SegmentKey, Supply, SupplyKey, SupplyOutcome, SupplyType } from '@inventory/domain';

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

/** A string that identifies a position and sorts in the order positions are locked. */
export function positionId(key: SupplyKey): string {
  return JSON.stringify(Object.values(keyColumns(key)));
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

/**
 * Locks the rows of `keys` (creating missing ones at quantity 0) with SELECT ... FOR UPDATE, one key at a
 * time in {@link positionId} order, so that two batches touching the same positions in any order lock them
 * in the same order and cannot deadlock. A first insert racing another transaction's first insert of the
 * same position fails on the unique key; the caller's transaction is retried and then finds the row.
 * (SQLite ignores FOR UPDATE; it runs one writer at a time.)
 */
export async function lockPositions({ trx, keys, nowMs }: { trx: Knex.Transaction; keys: readonly SupplyKey[]; nowMs: number }): Promise<Map<string, LockedPosition>> {
  const byId = new Map(keys.map((k) => [positionId(k), k]));
  const locked = new Map<string, LockedPosition>();
  for (const id of [...byId.keys()].sort()) {
    const columns = keyColumns(byId.get(id) as SupplyKey);
    let row = await trx<SupplyRow>('supply').where(columns).forUpdate().first();
    if (!row) {
      await trx('supply').insert({ ...columns, quantity: 0, last_sync_ms: null, updated_ms: nowMs });
      row = await trx<SupplyRow>('supply').where(columns).forUpdate().first();
    }
    const r = row as SupplyRow;
    locked.set(id, { supplyId: Number(r.supply_id), quantity: Number(r.quantity), lastSyncMs: r.last_sync_ms === null ? null : Number(r.last_sync_ms) });
  }
  return locked;
}

export async function updatePosition(
  { trx, supplyId, quantity, lastSyncMs, nowMs }: { trx: Knex.Transaction; supplyId: number; quantity: number; lastSyncMs: number | null; nowMs: number },
): Promise<void> {
  await trx('supply').where({ supply_id: supplyId }).update({ quantity, last_sync_ms: lastSyncMs, updated_ms: nowMs });
}

/** Sum of the deltas applied to a position that are dated after `afterMs` (the caller holds its lock). */
export async function sumAppliedAdjustsAfter({ trx, supplyId, afterMs }: { trx: Knex.Transaction; supplyId: number; afterMs: number }): Promise<number> {
  const row = await trx('supply_ledger')
    .where({ supply_id: supplyId, transaction_type: 'ADJUST', outcome: 'APPLIED' })
    .andWhere('source_ms', '>', afterMs)
    .sum({ total: 'quantity' })
    .first();
  return Number(row?.total ?? 0);
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
  for (let i = 0; i < entries.length; i += 200) {
    await trx('supply_ledger').insert(
      entries.slice(i, i + 200).map((e) => ({
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
      })),
    );
  }
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
