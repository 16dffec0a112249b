import type { Knex } from 'knex';
import {
  positionKeyId,
  REBALANCE_RUN_STATES,
  type ItemNode,
  type PositionKey,
  type RebalanceRun,
  type RebalanceRunState,
  type RebalanceTrigger,
  type SupplyKey,
} from '@inventory/domain';
import { codeOf, integerOf, integerOrNullOf, jsonOf, type IntegerColumn } from '../tables/columns';
import { ITEM_NODE_COLUMNS, positionKeyOf, type PositionKeyColumns } from '../tables/position-key';
import { quantityRecordOf } from '../tables/quantities';
import type { SupplyRow } from '../tables/supply';
import { chunks } from './chunks';
import { whereDemandCounts, whereHoldTakes } from './counting-sql';
import { SUPPLY } from './supply';

/** The stock a rebalance reads at an item-node, per position (pool and segments of one segment type). */
export interface RebalancePosition {
  readonly key: PositionKey;
  readonly supplies: Array<{ id: number; key: SupplyKey; quantity: number }>;
  /** The position's counted supply, counted demand and settled loan (0 for a position never written). */
  supply: number;
  demand: number;
  loan: number;
  /** Units of holds that take now. */
  activeHolds: number;
}

/** The positions of the pool and a segment type's segments at item-nodes, by position key id. */
export type RebalanceStock = Map<string, RebalancePosition>;

const SCOPE_CHUNK = 100;

/**
 * Reads what a rebalance needs at `itemNodes` for the pool and the segments of `segmentType` (of every segment
 * type when it is not given, as a physical total needs): their supply
 * rows of every type, their positions' counted supply and demand, settled loans and holds that take at `nowMs`.
 * With `lock` (in a transaction), the supply rows are
 * locked first, then the positions in position_id order, as every supply writer locks them, so that nothing
 * moves under the rebalance until it commits.
 */
export async function readRebalanceStock({
  db,
  itemNodes,
  segmentType,
  nowMs,
  lock,
}: {
  db: Knex;
  itemNodes: readonly ItemNode[];
  segmentType?: string;
  nowMs: number;
  lock: boolean;
}): Promise<RebalanceStock> {
  const stock: RebalanceStock = new Map();
  const positionAt = (row: PositionKeyColumns): RebalancePosition => {
    const key = positionKeyOf(row);
    const id = positionKeyId(key);
    let found = stock.get(id);
    if (!found) {
      found = { key, supplies: [], supply: 0, demand: 0, loan: 0, activeHolds: 0 };
      stock.set(id, found);
    }
    return found;
  };
  for (const chunk of chunks(itemNodes, SCOPE_CHUNK)) {
    const supplies = atItemNodes(db, 'supply', chunk, segmentType).orderBy('supply_id');
    for (const row of (await (lock ? supplies.forUpdate() : supplies)) as SupplyRow[]) {
      const record = quantityRecordOf(SUPPLY, row);
      positionAt(row).supplies.push({ id: SUPPLY.idOf(row), key: record.key, quantity: record.quantity });
    }
    const positions = atItemNodes(db, 'stock_positions', chunk, segmentType).orderBy('position_id');
    const positionRows: Array<PositionKeyColumns & { supply: number; demand: number; loan: number }> = await (lock
      ? positions.forUpdate()
      : positions);
    for (const row of positionRows)
      Object.assign(positionAt(row), { supply: row.supply, demand: row.demand, loan: row.loan });
    const holds: Array<PositionKeyColumns & { figure: IntegerColumn | null }> = await whereHoldTakes(
      atItemNodes(db, 'stock_positions as p', chunk, segmentType, 'p.').join(
        'reservation_holds as h',
        'h.position_id',
        'p.position_id',
      ),
      nowMs,
      'h.',
    )
      .groupBy(POSITION_COLUMNS.map((c) => `p.${c}`))
      .select(POSITION_COLUMNS.map((c) => `p.${c} as ${c}`))
      .sum({ figure: 'h.quantity' });
    for (const row of holds) positionAt(row).activeHolds = figureOf(row.figure, 'reservation_holds.quantity');
  }
  return stock;
}

/**
 * The counted demand created at item-nodes since `sinceMs`, by position key id, for the pool and the segments of
 * `segmentType`: what counted demand rows grew by in applied ledger lines (demand from consumed reservations
 * included), for a demand-weighted rule's window.
 */
export async function readDemandCreated({
  db,
  itemNodes,
  segmentType,
  sinceMs,
}: {
  db: Knex;
  itemNodes: readonly ItemNode[];
  segmentType: string;
  sinceMs: number;
}): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  for (const chunk of chunks(itemNodes, SCOPE_CHUNK)) {
    const rows: Array<PositionKeyColumns & { figure: IntegerColumn | null }> = await whereDemandCounts(
      atItemNodes(db, 'demand as d', chunk, segmentType, 'd.').join('demand_ledger as l', 'l.demand_id', 'd.demand_id'),
      'd.demand_type',
    )
      .where('l.outcome', 'APPLIED')
      .andWhere('l.recorded_ms', '>=', sinceMs)
      .andWhereRaw('l.quantity_after > l.quantity_before')
      .groupBy(POSITION_COLUMNS.map((c) => `d.${c}`))
      .select(POSITION_COLUMNS.map((c) => `d.${c} as ${c}`))
      .sum({ figure: db.raw('l.quantity_after - l.quantity_before') });
    for (const row of rows)
      created.set(positionKeyId(positionKeyOf(row)), figureOf(row.figure, 'demand_ledger.quantity'));
  }
  return created;
}

const POSITION_COLUMNS = [...ITEM_NODE_COLUMNS, 'segment_type', 'segment'] as const;

/** Rows of a table at item-nodes, in the pool or a segment of `segmentType` (any segment when not given). */
function atItemNodes(
  db: Knex,
  table: string,
  itemNodes: readonly ItemNode[],
  segmentType: string | undefined,
  alias = '',
) {
  const rows = db(table).whereIn(
    ITEM_NODE_COLUMNS.map((c) => `${alias}${c}`),
    itemNodes.map((n) => [n.item.itemId, n.item.unitOfMeasure, n.item.productClass, n.nodeId]),
  );
  return segmentType === undefined ? rows : rows.whereIn(`${alias}segment_type`, [segmentType, '']);
}

function figureOf(value: IntegerColumn | null, column: string): number {
  return value === null ? 0 : integerOf(value, column);
}

/** A rebalance's scope: the item-nodes with supply in the pool or a segment of the type, narrowed by ids. */
export interface RebalanceScope {
  readonly segmentType: string;
  readonly itemIds: readonly string[];
  readonly nodeIds: readonly string[];
}

function scopeQuery(db: Knex, scope: RebalanceScope): Knex.QueryBuilder {
  const query = db('supply').whereIn('segment_type', [scope.segmentType, '']);
  if (scope.itemIds.length > 0) query.whereIn('item_id', scope.itemIds);
  if (scope.nodeIds.length > 0) query.whereIn('node_id', scope.nodeIds);
  return query;
}

/** The item-nodes in scope after `after`, in item-node order (item id, unit, class, node), at most `limit`. */
export async function listScopeItemNodes({
  db,
  scope,
  after,
  limit,
}: {
  db: Knex;
  scope: RebalanceScope;
  after: ItemNode | null;
  limit: number;
}): Promise<ItemNode[]> {
  const query = scopeQuery(db, scope)
    .distinct(...ITEM_NODE_COLUMNS)
    .orderBy([...ITEM_NODE_COLUMNS])
    .limit(limit);
  if (after)
    whereAfter(query, ITEM_NODE_COLUMNS, [
      after.item.itemId,
      after.item.unitOfMeasure,
      after.item.productClass,
      after.nodeId,
    ]);
  const rows: Array<Pick<PositionKeyColumns, (typeof ITEM_NODE_COLUMNS)[number]>> = await query;
  return rows.map((r) => ({
    item: { itemId: r.item_id, unitOfMeasure: r.unit_of_measure, productClass: r.product_class },
    nodeId: r.node_id,
  }));
}

/**
 * Narrows a query to the rows after `values` in the order of `columns`, written column by column
 * (`c1 >= v1 AND (c1 > v1 OR (c1 = v1 AND (c2 > v2 OR ...)))`): MariaDB does not turn a row comparison
 * `(c1, c2) > (v1, v2)` into an index range and would read the index from its start on every page.
 */
function whereAfter(query: Knex.QueryBuilder, columns: readonly string[], values: readonly string[]): void {
  query.where(columns[0]!, '>=', values[0]!).andWhere(function later(this: Knex.QueryBuilder) {
    laterThan(this, columns, values);
  });
}

/** `c1 > v1 OR (c1 = v1 AND (c2 > v2 OR ...))`. */
function laterThan(query: Knex.QueryBuilder, [c, ...cs]: readonly string[], [v, ...vs]: readonly string[]): void {
  query.where(c!, '>', v!);
  if (cs.length > 0)
    query.orWhere(function tie(this: Knex.QueryBuilder) {
      this.where(c!, v!).andWhere(function later(this: Knex.QueryBuilder) {
        laterThan(this, cs, vs);
      });
    });
}

/** How many item-nodes are in scope. */
export async function countScopeItemNodes({ db, scope }: { db: Knex; scope: RebalanceScope }): Promise<number> {
  const row: { total: IntegerColumn } | undefined = await db
    .from(
      scopeQuery(db, scope)
        .distinct(...ITEM_NODE_COLUMNS)
        .as('item_nodes'),
    )
    .count({ total: '*' })
    .first();
  return row ? integerOf(row.total, 'supply.count') : 0;
}

/** A row of `rebalance_runs`. */
interface RebalanceRunRow {
  readonly run_id: string;
  readonly segment_type: string;
  readonly scope: string;
  readonly trigger_kind: string;
  readonly state: string;
  readonly plan_version: IntegerColumn;
  readonly item_nodes_total: IntegerColumn;
  readonly item_nodes_done: IntegerColumn;
  readonly item_nodes_changed: IntegerColumn;
  readonly moves: IntegerColumn;
  readonly units_moved: IntegerColumn;
  readonly cursor: string | null;
  readonly start_ms: IntegerColumn;
  readonly finish_ms: IntegerColumn | null;
  readonly error: string | null;
  readonly actor: string;
  readonly request_id: string;
}

const TRIGGERS: readonly RebalanceTrigger[] = ['REQUESTED', 'SCHEDULED', 'SYSTEM_DETECTED'];

function runOf(row: RebalanceRunRow): RebalanceRun {
  const scope = jsonOf<{ itemIds: string[]; nodeIds: string[] }>(row.scope);
  const n = (v: IntegerColumn, c: string) => integerOf(v, `rebalance_runs.${c}`);
  return {
    runId: row.run_id,
    segmentType: row.segment_type,
    itemIds: scope.itemIds,
    nodeIds: scope.nodeIds,
    trigger: codeOf(TRIGGERS, row.trigger_kind, 'rebalance_runs.trigger_kind'),
    state: codeOf(REBALANCE_RUN_STATES, row.state, 'rebalance_runs.state'),
    planVersion: n(row.plan_version, 'plan_version'),
    itemNodesTotal: n(row.item_nodes_total, 'item_nodes_total'),
    itemNodesDone: n(row.item_nodes_done, 'item_nodes_done'),
    itemNodesChanged: n(row.item_nodes_changed, 'item_nodes_changed'),
    moves: n(row.moves, 'moves'),
    unitsMoved: n(row.units_moved, 'units_moved'),
    cursor: row.cursor === null ? null : jsonOf<ItemNode>(row.cursor),
    startMs: n(row.start_ms, 'start_ms'),
    finishMs: integerOrNullOf(row.finish_ms, 'rebalance_runs.finish_ms'),
    error: row.error,
    actor: row.actor,
    requestId: row.request_id,
  };
}

function runRow(run: RebalanceRun): RebalanceRunRow {
  return {
    run_id: run.runId,
    segment_type: run.segmentType,
    scope: JSON.stringify({ itemIds: run.itemIds, nodeIds: run.nodeIds }),
    trigger_kind: run.trigger,
    state: run.state,
    plan_version: run.planVersion,
    item_nodes_total: run.itemNodesTotal,
    item_nodes_done: run.itemNodesDone,
    item_nodes_changed: run.itemNodesChanged,
    moves: run.moves,
    units_moved: run.unitsMoved,
    cursor: run.cursor && JSON.stringify(run.cursor),
    start_ms: run.startMs,
    finish_ms: run.finishMs,
    error: run.error,
    actor: run.actor,
    request_id: run.requestId,
  };
}

export async function insertRebalanceRun({ trx, run }: { trx: Knex.Transaction; run: RebalanceRun }): Promise<void> {
  await trx('rebalance_runs').insert(runRow(run));
}

/** Writes a run's state, progress and cursor. */
export async function updateRebalanceRun({ trx, run }: { trx: Knex.Transaction; run: RebalanceRun }): Promise<void> {
  const { run_id: runId, ...row } = runRow(run);
  await trx('rebalance_runs').where({ run_id: runId }).update(row);
}

/** One run, locked for the rest of the transaction with `lock`. */
export async function readRebalanceRun({
  db,
  runId,
  lock = false,
}: {
  db: Knex;
  runId: string;
  lock?: boolean;
}): Promise<RebalanceRun | undefined> {
  const query = db('rebalance_runs').where({ run_id: runId });
  const row: RebalanceRunRow | undefined = await (lock ? query.forUpdate() : query).first();
  return row && runOf(row);
}

/** Runs newest first (by start time, then id), after the keyset `after`, optionally filtered. */
export async function listRebalanceRuns({
  db,
  segmentType,
  state,
  after,
  limit,
}: {
  db: Knex;
  segmentType?: string;
  state?: RebalanceRunState;
  after: { startMs: number; runId: string } | null;
  limit: number;
}): Promise<RebalanceRun[]> {
  const query = db('rebalance_runs').orderBy([
    { column: 'start_ms', order: 'desc' },
    { column: 'run_id', order: 'desc' },
  ]);
  if (segmentType) query.where({ segment_type: segmentType });
  if (state) query.where({ state });
  if (after) query.whereRaw('(start_ms, run_id) < (?, ?)', [after.startMs, after.runId]);
  const rows: RebalanceRunRow[] = await query.limit(limit);
  return rows.map(runOf);
}

/** The ids of RUNNING runs, oldest first: the work a run worker has to do. */
export async function runningRebalanceRuns({ db }: { db: Knex }): Promise<string[]> {
  const rows: Array<{ run_id: string }> = await db('rebalance_runs')
    .where({ state: 'RUNNING' })
    .orderBy([{ column: 'start_ms' }, { column: 'run_id' }])
    .select('run_id');
  return rows.map((r) => r.run_id);
}
