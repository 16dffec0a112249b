import type { Knex } from 'knex';
import { MAX_TIME_MS, positionKeyId, type PositionKey } from '@inventory/domain';
import { ITEM_NODE_COLUMNS, positionKeyColumns, positionKeyOf, type PositionKeyColumns } from '../tables/position-key';
import { chunks } from './chunks';
import {
  supplyCountsLaterSql,
  supplyCountsSql,
  whereDemandCounts,
  whereHeld,
  whereHeldPastExpiry,
  whereHoldTakes,
} from './counting-sql';

/**
 * Stock positions: per item, node and segment, the running totals of counted supply, counted demand and
 * held reservations. Writers of supply, demand and holds change them by deltas in the transaction that
 * changes the rows they summarise; a reservation's availability check and hold is one conditional UPDATE
 * on them. Every UPDATE of several positions goes in position_id order, so that no two transactions
 * wait on each other's positions in a cycle.
 */
export interface StockPosition {
  readonly positionId: number;
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  /**
   * The loan the position was last settled at: for a segment's position what it owes the unsegmented
   * pool at its item and node, for the pool's position the sum of those (see the domain's borrowing.ts).
   */
  readonly loan: number;
  /** Once this passes, supply that has arrived is not yet in `supply`: the row must be recounted. */
  readonly nextEtaMs: number;
  /** The item's safety stock rule at this node, and its item-level rule, where they exist. */
  readonly nodeSafetyStock: number | null;
  readonly itemSafetyStock: number | null;
}

/** A stock_positions row as both drivers return it (BIGINTs as numbers: see the MySQL connection options). */
interface StockPositionRow extends PositionKeyColumns {
  readonly position_id: number;
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly loan: number;
  readonly next_eta_ms: number;
}

/** A row of {@link positionsQueries}: a position with the item's safety stock rules there. */
interface PositionWithRulesRow extends StockPositionRow {
  readonly node_safety_stock: number | null;
  readonly item_safety_stock: number | null;
}

/** A SUM over no rows is NULL. */
interface AggregateRow {
  readonly total?: number | null;
}

const CHUNK = 200;

function toStockPosition(row: PositionWithRulesRow): StockPosition {
  return {
    positionId: row.position_id,
    supply: row.supply,
    demand: row.demand,
    reserved: row.reserved,
    loan: row.loan,
    nextEtaMs: row.next_eta_ms,
    nodeSafetyStock: row.node_safety_stock,
    itemSafetyStock: row.item_safety_stock,
  };
}

/** What an aggregate came to; no rows count as zero. */
const totalOf = (row: AggregateRow | undefined): number => row?.total ?? 0;

/**
 * The queries (one per chunk of keys) that read, without locking them, the positions of every segment at
 * the item-nodes of `keys` (so that the loans between the pool and its segments are known), with the
 * item's safety stock rules there, so a reservation needs one read. Turn their rows into positions with
 * {@link positionsByKey}.
 */
export function positionsQueries(db: Knex, keys: readonly PositionKey[]): Knex.QueryBuilder[] {
  const itemNodes = [...new Map(keys.map((k) => [itemNodeId(k), k])).values()];
  return (itemNodes.length > 0 ? chunks(itemNodes) : [[]]).map((chunk) => positionsQuery(db, chunk));
}

/**
 * The queries that lock, until the transaction ends, the positions {@link positionsQueries} reads, in
 * position order. Run just before them, they make that read the last word: nothing can change the
 * positions between it and the transaction's hold, so a hold checked against what was read cannot be
 * refused for a change made meanwhile (see ReservationDesk, which falls back to this under contention).
 */
export function lockPositionsQueries(db: Knex, keys: readonly PositionKey[]): Knex.QueryBuilder[] {
  const itemNodes = [...new Map(keys.map((k) => [itemNodeId(k), k])).values()];
  return chunks(itemNodes).map((chunk) =>
    db('stock_positions')
      .select('position_id')
      .whereIn(
        [...ITEM_NODE_COLUMNS],
        chunk.map((k) => ITEM_NODE_COLUMNS.map((c) => positionKeyColumns(k)[c])),
      )
      .orderBy('position_id')
      .forUpdate(),
  );
}

/** Identifies the item-node of a position. */
const itemNodeId = (k: PositionKey) => JSON.stringify(ITEM_NODE_COLUMNS.map((c) => positionKeyColumns(k)[c]));

/** Positions (`p`) with the item's safety stock rules at their node and for the item. */
function positionsWithRules(db: Knex): Knex.QueryBuilder {
  const rule = (nodeColumn: string | null) =>
    db('safety_stock as s')
      .select('s.quantity')
      .whereRaw('s.item_id = p.item_id and s.unit_of_measure = p.unit_of_measure and s.product_class = p.product_class')
      .andWhereRaw(nodeColumn ? 's.node_id = p.node_id' : "s.node_id = ''");
  return db('stock_positions as p').select(
    'p.*',
    rule('p.node_id').as('node_safety_stock'),
    rule(null).as('item_safety_stock'),
  );
}

function positionsQuery(db: Knex, itemNodes: readonly PositionKey[]): Knex.QueryBuilder {
  return positionsWithRules(db).whereIn(
    ITEM_NODE_COLUMNS.map((c) => `p.${c}`),
    itemNodes.length > 0
      ? itemNodes.map((k) => ITEM_NODE_COLUMNS.map((c) => positionKeyColumns(k)[c]))
      : [ITEM_NODE_COLUMNS.map(() => null)],
  );
}

/** Positions by position key id, from the rows of {@link positionsQueries} (however they were run). */
export function positionsByKey(rows: readonly unknown[]): Map<string, StockPosition> {
  return new Map(
    (rows as readonly PositionWithRulesRow[]).map((row) => [positionKeyId(positionKeyOf(row)), toStockPosition(row)]),
  );
}

/**
 * Reads positions without locking them, by position key id: those of `keys` and every other segment's at
 * their item-nodes. Positions never written are absent.
 */
export async function readPositions({
  db,
  keys,
}: {
  db: Knex;
  keys: readonly PositionKey[];
}): Promise<Map<string, StockPosition>> {
  const found = new Map<string, StockPosition>();
  for (const query of positionsQueries(db, keys)) for (const [id, p] of positionsByKey(await query)) found.set(id, p);
  return found;
}

/**
 * Reads without locking every position (all segments) of the items `itemIds` (every unit of measure and
 * product class) at the nodes `nodeIds`, by position key id; undefined for either means every one.
 */
export async function readPositionsWhere({
  db,
  itemIds,
  nodeIds,
}: {
  db: Knex;
  itemIds?: readonly string[];
  nodeIds?: readonly string[];
}): Promise<Map<string, StockPosition>> {
  let query = positionsWithRules(db);
  if (itemIds) query = query.whereIn('p.item_id', [...itemIds]);
  if (nodeIds) query = query.whereIn('p.node_id', [...nodeIds]);
  return positionsByKey((await query) as unknown[]);
}

/**
 * The position ids of `keys`, creating missing positions at zero. A first insert that races another's
 * fails on the unique key and the caller's transaction is retried.
 */
export async function ensurePositions({
  trx,
  keys,
}: {
  trx: Knex.Transaction;
  keys: readonly PositionKey[];
}): Promise<Map<string, number>> {
  const existing = await readPositions({ db: trx, keys });
  const missing = [
    ...new Map(keys.filter((k) => !existing.has(positionKeyId(k))).map((k) => [positionKeyId(k), k])).values(),
  ];
  if (missing.length > 0) {
    await trx
      .batchInsert(
        'stock_positions',
        missing.map((k) => ({ ...positionKeyColumns(k), next_eta_ms: MAX_TIME_MS })),
        CHUNK,
      )
      .transacting(trx);
    for (const [id, p] of await readPositions({ db: trx, keys: missing })) existing.set(id, p);
  }
  return new Map([...existing].map(([id, p]) => [id, p.positionId]));
}

/** A change to one position's totals. */
export interface PositionShift {
  readonly positionId: number;
  readonly supply?: number;
  readonly demand?: number;
  readonly reserved?: number;
  /** An ETA of counted supply that is not yet due: the row is recounted once it passes. */
  readonly nextEtaMs?: number;
}

/** Applies deltas: one UPDATE per chunk of positions, in position_id order. Takes each position's row lock. */
export async function shiftPositions({
  trx,
  shifts,
}: {
  trx: Knex.Transaction;
  shifts: readonly PositionShift[];
}): Promise<void> {
  const merged = new Map<number, Required<PositionShift>>();
  for (const s of shifts) {
    const m = merged.get(s.positionId) ?? {
      positionId: s.positionId,
      supply: 0,
      demand: 0,
      reserved: 0,
      nextEtaMs: MAX_TIME_MS,
    };
    merged.set(s.positionId, {
      positionId: s.positionId,
      supply: m.supply + (s.supply ?? 0),
      demand: m.demand + (s.demand ?? 0),
      reserved: m.reserved + (s.reserved ?? 0),
      nextEtaMs: Math.min(m.nextEtaMs, s.nextEtaMs ?? MAX_TIME_MS),
    });
  }
  const moving = [...merged.values()]
    .filter((s) => s.supply !== 0 || s.demand !== 0 || s.reserved !== 0 || s.nextEtaMs !== MAX_TIME_MS)
    .sort((a, b) => a.positionId - b.positionId);
  for (const chunk of chunks(moving)) {
    const eta = byPosition(trx, chunk, (s) => s.nextEtaMs);
    await trx('stock_positions')
      .whereIn(
        'position_id',
        chunk.map((s) => s.positionId),
      )
      .update({
        supply: trx.raw('supply + ?', [byPosition(trx, chunk, (s) => s.supply)]),
        demand: trx.raw('demand + ?', [byPosition(trx, chunk, (s) => s.demand)]),
        reserved: trx.raw('reserved + ?', [byPosition(trx, chunk, (s) => s.reserved)]),
        next_eta_ms: trx.raw('CASE WHEN next_eta_ms < ? THEN next_eta_ms ELSE ? END', [eta, eta]),
      });
  }
}

/**
 * `CASE position_id WHEN id THEN value ... END` over `rows`: one UPDATE gives each position its own value. An
 * UPDATE of several positions by their ids takes their row locks in position_id order (the primary key's),
 * as one UPDATE per position in that order would.
 */
function byPosition<T extends { readonly positionId: number }>(
  trx: Knex.Transaction,
  rows: readonly T[],
  value: (row: T) => number,
): Knex.Raw {
  return trx.raw(
    `CASE position_id ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END`,
    rows.flatMap((r) => [r.positionId, value(r)]),
  );
}

/** A position's key and totals, read under its row lock. */
export interface LockedPosition {
  readonly positionId: number;
  readonly key: PositionKey;
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly loan: number;
}

/** Locks positions (in position_id order) and reads their totals. */
export async function lockPositions({
  trx,
  positionIds,
}: {
  trx: Knex.Transaction;
  positionIds: readonly number[];
}): Promise<LockedPosition[]> {
  const locked: LockedPosition[] = [];
  for (const chunk of chunks([...new Set(positionIds)].sort((a, b) => a - b))) {
    const rows: StockPositionRow[] = await trx('stock_positions')
      .whereIn('position_id', chunk)
      .orderBy('position_id')
      .forUpdate();
    for (const row of rows)
      locked.push({
        positionId: row.position_id,
        key: positionKeyOf(row),
        supply: row.supply,
        demand: row.demand,
        reserved: row.reserved,
        loan: row.loan,
      });
  }
  return locked;
}

/** Moves the loans positions are settled at: one UPDATE per chunk of positions, in position_id order. */
export async function shiftLoans({
  trx,
  loans,
}: {
  trx: Knex.Transaction;
  loans: ReadonlyArray<{ readonly positionId: number; readonly delta: number }>;
}): Promise<void> {
  const merged = new Map<number, number>();
  for (const l of loans) merged.set(l.positionId, (merged.get(l.positionId) ?? 0) + l.delta);
  const moving = [...merged]
    .filter(([, delta]) => delta !== 0)
    .map(([positionId, delta]) => ({ positionId, delta }))
    .sort((a, b) => a.positionId - b.positionId);
  for (const chunk of chunks(moving))
    await trx('stock_positions')
      .whereIn(
        'position_id',
        chunk.map((l) => l.positionId),
      )
      .update({ loan: trx.raw('loan + ?', [byPosition(trx, chunk, (l) => l.delta)]) });
}

/** Units to hold at a position, and the safety stock withheld there. */
export interface HoldRequest {
  readonly positionId: number;
  readonly quantity: number;
  readonly safetyStock: number;
  /**
   * How much the position's settled loan grows with the hold: for a segment's position, what it borrows
   * beyond its own; for the pool's, what its segments borrow in the same statement (its quantity may be 0).
   */
  readonly loan?: number;
  /**
   * The totals the caller read and announces (plus its hold) in the same commit. When given, the hold is
   * also refused if the position no longer has exactly these totals, so that what the commit announces is
   * what it leaves; the caller then decides again from a fresh read.
   */
  readonly readTotals?: {
    readonly supply: number;
    readonly demand: number;
    readonly reserved: number;
    readonly loan: number;
  };
}

/**
 * The hot path: one UPDATE (per chunk of positions, chunks in key order) that checks what each position
 * can promise and takes the units. It is meant
 * to be the last statement before the commit, so that a hot row stays locked only from this UPDATE to
 * the commit. Its rows are found through the primary key's IN list, which the database walks in key
 * order, so two such UPDATEs lock shared rows in the same order and cannot deadlock. When a position is
 * short, or due for a recount (supply has arrived since it was counted), the UPDATE sets its `reserved`
 * to NULL, which the NOT NULL column refuses with an error: the statement fails instead of quietly
 * changing less, so a COMMIT sent right behind it never runs (see pipelinedTransaction).
 * {@link isRefusedHold} recognises the error. (MySQL sessions run in strict mode, where NULL into a NOT
 * NULL column is an error, as on SQLite.)
 */
export function holdStatements(db: Knex, holds: readonly HoldRequest[], nowMs: number): Knex.QueryBuilder[] {
  // Several holds on one position are checked against their sum.
  const totals = new Map<number, HoldRequest>();
  for (const h of holds) {
    const sum = totals.get(h.positionId);
    totals.set(h.positionId, {
      ...h,
      quantity: (sum?.quantity ?? 0) + h.quantity,
      loan: (sum?.loan ?? 0) + (h.loan ?? 0),
    });
  }
  return chunks([...totals.values()].sort((a, b) => a.positionId - b.positionId)).map((chunk) =>
    holdStatement(db, chunk, nowMs),
  );
}

/**
 * What a position can still promise once its loan has grown by the bound delta: the domain's figures over
 * its totals. The pool withholds safety stock and what it has lent; a segment may go below zero by what
 * it has borrowed (the pool's own statement checks that the pool can lend it).
 */
const POSITION_BALANCE_SQL = `supply - demand - reserved - ? + CASE WHEN segment_type = '' AND segment = '' THEN -(loan + ?) ELSE loan + ? END`;

function holdStatement(db: Knex, holds: readonly HoldRequest[], nowMs: number): Knex.QueryBuilder {
  const check = (h: HoldRequest) =>
    `CASE WHEN next_eta_ms > ?${h.readTotals ? ' AND supply = ? AND demand = ? AND reserved = ? AND loan = ?' : ''} AND ${POSITION_BALANCE_SQL} >= ? THEN reserved + ? ELSE NULL END`;
  const bindings = (h: HoldRequest) => [
    h.positionId,
    nowMs,
    ...(h.readTotals ? [h.readTotals.supply, h.readTotals.demand, h.readTotals.reserved, h.readTotals.loan] : []),
    h.safetyStock,
    h.loan ?? 0,
    h.loan ?? 0,
    h.quantity,
    h.quantity,
  ];
  const lending = holds.filter((h) => (h.loan ?? 0) !== 0);
  return (
    db('stock_positions')
      .whereIn(
        'position_id',
        holds.map((h) => h.positionId),
      )
      // `reserved` is set first: MySQL evaluates assignments in order, and its check must see the loan
      // before this statement grows it (as SQLite, which evaluates every assignment on the old row, does).
      .update({
        reserved: db.raw(
          `CASE position_id ${holds.map((h) => `WHEN ? THEN ${check(h)}`).join(' ')} END`,
          holds.flatMap(bindings),
        ),
        ...(lending.length > 0 && {
          loan: db.raw(
            `loan + CASE position_id ${lending.map(() => 'WHEN ? THEN ?').join(' ')} ELSE 0 END`,
            lending.flatMap((h) => [h.positionId, h.loan ?? 0]),
          ),
        }),
      })
  );
}

/** Whether an error is a {@link holdStatements} statement refusing a hold. */
export function isRefusedHold(err: unknown): boolean {
  const e = err as { errno?: number; code?: string; message?: string };
  return (
    (e.errno === 1048 && /reserved/.test(e.message ?? '')) ||
    (e.code === 'SQLITE_CONSTRAINT_NOTNULL' && /stock_positions\.reserved/.test(e.message ?? ''))
  );
}

/** Which of the positions have holds past expiry still counted, or supply that has arrived since. */
export async function positionsDueForRecount({
  db,
  positionIds,
  nowMs,
}: {
  db: Knex;
  positionIds: readonly number[];
  nowMs: number;
}): Promise<number[]> {
  if (positionIds.length === 0) return [];
  const stale: number[] = await db('stock_positions')
    .whereIn('position_id', positionIds)
    .andWhere('next_eta_ms', '<=', nowMs)
    .pluck('position_id');
  const expired: number[] = await whereHeldPastExpiry(
    db('reservation_holds').distinct('position_id').whereIn('position_id', positionIds),
    nowMs,
  ).pluck('position_id');
  return [...new Set([...stale, ...expired])];
}

/**
 * Recounts positions from the rows they summarise, after marking their holds past expiry EXPIRED, and
 * returns the keys of those recounted (their loans are then settled by the caller). The
 * sums apply the domain's counting rule (see counting-sql.ts): supply that counts now, the demand types
 * that count, held units.
 * Locks each position first (in position_id order), so that no writer's delta lands between the count and
 * the write: writers that change a summarised row take the position's lock before they commit.
 */
export async function recountPositions({
  trx,
  positionIds,
  nowMs,
}: {
  trx: Knex.Transaction;
  positionIds: readonly number[];
  nowMs: number;
}): Promise<PositionKey[]> {
  const recounted: PositionKey[] = [];
  for (const positionId of [...new Set(positionIds)].sort((a, b) => a - b)) {
    const row: StockPositionRow | undefined = await trx('stock_positions')
      .where({ position_id: positionId })
      .forUpdate()
      .first();
    if (!row) continue;
    recounted.push(positionKeyOf(row));
    const key = positionKeyColumns(positionKeyOf(row));
    await whereHeldPastExpiry(trx('reservation_holds').where({ position_id: positionId }), nowMs).update({
      state: 'EXPIRED',
    });
    const supply: { due: number | null; next_eta: number | null } | undefined = await trx('supply')
      .where(key)
      .first(
        trx.raw('SUM(CASE WHEN ? THEN quantity ELSE 0 END) AS due', [supplyCountsSql(trx, nowMs)]),
        trx.raw('MIN(CASE WHEN ? THEN eta_ms END) AS next_eta', [supplyCountsLaterSql(trx, nowMs)]),
      );
    const demand: AggregateRow | undefined = await whereDemandCounts(trx('demand').where(key))
      .sum({ total: 'quantity' })
      .first();
    const reserved: AggregateRow | undefined = await whereHeld(
      trx('reservation_holds').where({ position_id: positionId }),
    )
      .sum({ total: 'quantity' })
      .first();
    await trx('stock_positions')
      .where({ position_id: positionId })
      .update({
        supply: supply?.due ?? 0,
        demand: totalOf(demand),
        reserved: totalOf(reserved),
        next_eta_ms: supply?.next_eta ?? MAX_TIME_MS,
      });
  }
  return recounted;
}

/**
 * Per node, for an item in a segment: counted demand, and units held by reservations not past expiry
 * (held units past expiry stop counting at once, before anyone releases them).
 */
export async function commitmentsAt({
  db,
  item,
  nodeIds,
  segment,
  nowMs,
}: {
  db: Knex;
  item: PositionKey['item'];
  nodeIds: readonly string[];
  segment: PositionKey['segment'];
  nowMs: number;
}): Promise<Map<string, { demand: number; reserved: number }>> {
  const where = {
    item_id: item.itemId,
    unit_of_measure: item.unitOfMeasure,
    product_class: item.productClass,
    segment_type: segment.segmentType,
    segment: segment.segment,
  };
  const demand: Array<AggregateRow & { node_id: string }> = await whereDemandCounts(
    db('demand').where(where).whereIn('node_id', nodeIds),
  )
    .groupBy('node_id')
    .select('node_id')
    .sum({ total: 'quantity' });
  const reserved: Array<AggregateRow & { node_id: string }> = await whereHoldTakes(
    db('reservation_holds as h')
      .join('stock_positions as p', 'p.position_id', 'h.position_id')
      .where(Object.fromEntries(Object.entries(where).map(([k, v]) => [`p.${k}`, v])))
      .whereIn('p.node_id', nodeIds),
    nowMs,
    'h.',
  )
    .groupBy('p.node_id')
    .select('p.node_id as node_id')
    .sum({ total: 'h.quantity' });
  const result = new Map(nodeIds.map((n) => [n, { demand: 0, reserved: 0 }]));
  for (const r of demand) result.get(r.node_id)!.demand = totalOf(r);
  for (const r of reserved) result.get(r.node_id)!.reserved = totalOf(r);
  return result;
}
