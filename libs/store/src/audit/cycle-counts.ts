import type { Knex } from 'knex';
import {
  CountTaskAlreadyExistsError,
  RequestIdReusedError,
  type AbcClass,
  type CountLine,
  type CountLineState,
  type CountTask,
  type CountTaskState,
  type ItemKey,
  type ItemMovement,
} from '@inventory/domain';
import type { Database } from '../database';
import { codeOf, integerOf, integerOrNullOf, type IntegerColumn } from '../tables/columns';
import { chunks } from '../operations/chunks';
import { stockQuantitiesBefore } from './records';

/**
 * The audit app's cycle count tables: tasks, their lines, and the RecordCount requests answered. Tasks and
 * lines change only in transactions that lock the task row first, so counts and approvals of one task
 * take turns.
 */

/**
 * Each item's movement at a node since `sinceMs`: the sum of |change| of its applied ONHAND syncs and
 * adjusts (moves between segments are not movement), most first.
 */
export async function itemMovements(db: Database, nodeId: string, sinceMs: number): Promise<ItemMovement[]> {
  const rows = (await db
    .knex('audit_supply_records')
    .where({ node_id: nodeId, supply_type: 'ONHAND', outcome: 'APPLIED' })
    .whereIn('purpose', ['SUPPLY_SYNC', 'SUPPLY_ADJUSTMENT'])
    .where('occur_ms', '>=', sinceMs)
    .groupBy('item_id', 'unit_of_measure', 'product_class')
    .select('item_id', 'unit_of_measure', 'product_class')
    .select(db.knex.raw('SUM(ABS(quantity_after - quantity_before)) AS movement'))
    .orderBy([
      { column: 'movement', order: 'desc' },
      { column: 'item_id', order: 'asc' },
    ])) as Array<{ item_id: string; unit_of_measure: string; product_class: string; movement: IntegerColumn }>;
  return rows.map((r) => ({
    item: { itemId: r.item_id, unitOfMeasure: r.unit_of_measure, productClass: r.product_class },
    movement: integerOf(r.movement, 'movement'),
  }));
}

/** The shelf quantity of an item at a node at `atMs` (ONHAND of the pool and every segment), by the records. */
export async function shelfQuantityAt(db: Database, item: ItemKey, nodeId: string, atMs: number): Promise<number> {
  const quantities = await stockQuantitiesBefore(db, { item, nodeId, supplyType: 'ONHAND' }, 0, atMs + 1);
  return [...quantities.values()].reduce((sum, q) => sum + q, 0);
}

/**
 * Stores a new task, or returns the one `requestId` already made: the same request gets the same task,
 * another request under its id a RequestIdReusedError.
 */
export async function insertCountTask(
  db: Database,
  task: CountTask,
  requestId: string,
  requestJson: string,
): Promise<CountTask> {
  return db.knex.transaction(async (trx) => {
    const existing = (await trx('audit_count_tasks').where({ request_id: requestId }).first()) as TaskRow | undefined;
    if (existing) {
      if (existing.request_json !== requestJson) throw new RequestIdReusedError(requestId, 'CreateCountTask');
      return (await readTask(trx, existing.task_id)) as CountTask;
    }
    if (await trx('audit_count_tasks').where({ task_id: task.taskId }).first('task_id'))
      throw new CountTaskAlreadyExistsError(task.taskId);
    await trx('audit_count_tasks').insert({
      task_id: task.taskId,
      request_id: requestId,
      request_json: requestJson,
      node_id: task.nodeId,
      blind: task.blind,
      tolerance_bp: task.toleranceBp,
      state: task.state,
      create_ms: task.createMs,
    });
    for (const chunk of chunks(task.lines.map((line) => lineRow(task.taskId, line))))
      await trx('audit_count_lines').insert(chunk);
    return task;
  });
}

export async function readCountTask(db: Database, taskId: string): Promise<CountTask | undefined> {
  return readTask(db.knex, taskId);
}

/** A RecordCount request as stored: what it asked, and what it was answered. */
export interface AnsweredCount {
  readonly requestJson: string;
  readonly responseJson: string;
}

/**
 * Runs `work` on a task with its row locked, in one transaction; `work` returns the lines it changed, the
 * task's new state and columns, and, for a RecordCount, the request to remember with its answer. An
 * answered request id found first is returned instead, with `work` not run.
 */
export async function changeCountTask<T>(
  db: Database,
  taskId: string,
  requestId: string | undefined,
  work: (
    task: CountTask | undefined,
    answered: AnsweredCount | undefined,
  ) => {
    result: T;
    lines?: readonly CountLine[];
    task?: Partial<Pick<CountTask, 'state' | 'approver' | 'approveMs' | 'approveRequestId' | 'adjustmentRequestId'>>;
    answer?: AnsweredCount;
  },
): Promise<T> {
  return db.knex.transaction(async (trx) => {
    await trx('audit_count_tasks').where({ task_id: taskId }).forUpdate().first('task_id');
    const answered = requestId
      ? ((await trx('audit_count_requests').where({ request_id: requestId }).first()) as
          { request_json: string; response_json: string } | undefined)
      : undefined;
    const task = await readTask(trx, taskId);
    const change = work(task, answered && { requestJson: answered.request_json, responseJson: answered.response_json });
    for (const line of change.lines ?? [])
      await trx('audit_count_lines').where({ task_id: taskId, line_no: line.lineNo }).update(lineRow(taskId, line));
    if (change.task) {
      const t = change.task;
      await trx('audit_count_tasks')
        .where({ task_id: taskId })
        .update({
          ...(t.state !== undefined && { state: t.state }),
          ...(t.approver !== undefined && { approver: t.approver }),
          ...(t.approveMs !== undefined && { approve_ms: t.approveMs }),
          ...(t.adjustmentRequestId !== undefined && { adjustment_request_id: t.adjustmentRequestId }),
          ...(t.approveRequestId !== undefined && { approve_request_id: t.approveRequestId }),
        });
    }
    if (change.answer && requestId)
      await trx('audit_count_requests').insert({
        request_id: requestId,
        request_json: change.answer.requestJson,
        response_json: change.answer.responseJson,
      });
    return change.result;
  });
}

/** The counted lines of approved tasks, with their nodes, whose count time is in the range. */
export async function approvedCountLines(
  db: Database,
  filter: { nodeId?: string; startMs?: number; endMs?: number },
): Promise<Array<{ nodeId: string; line: CountLine }>> {
  const q = db
    .knex('audit_count_lines as l')
    .join('audit_count_tasks as t', 't.task_id', 'l.task_id')
    .where('t.state', 'APPROVED')
    .select('l.*', 't.node_id');
  if (filter.nodeId) q.where('t.node_id', filter.nodeId);
  if (filter.startMs !== undefined) q.where('l.count_ms', '>=', filter.startMs);
  if (filter.endMs !== undefined) q.where('l.count_ms', '<', filter.endMs);
  const rows = (await q) as Array<LineRow & { node_id: string }>;
  return rows.map((row) => ({ nodeId: row.node_id, line: lineOf(row) }));
}

interface TaskRow {
  readonly task_id: string;
  readonly request_json: string;
  readonly node_id: string;
  readonly blind: boolean | number;
  readonly tolerance_bp: IntegerColumn;
  readonly state: string;
  readonly create_ms: IntegerColumn;
  readonly approver: string;
  readonly approve_request_id: string | null;
  readonly approve_ms: IntegerColumn | null;
  readonly adjustment_request_id: string;
}

interface LineRow {
  readonly task_id: string;
  readonly line_no: IntegerColumn;
  readonly item_id: string;
  readonly unit_of_measure: string;
  readonly product_class: string;
  readonly abc_class: string;
  readonly tolerance_bp: IntegerColumn;
  readonly state: string;
  readonly counts: IntegerColumn;
  readonly counted_quantity: IntegerColumn | null;
  readonly count_ms: IntegerColumn | null;
  readonly counter: string;
  readonly system_quantity: IntegerColumn | null;
  readonly first_counted_quantity: IntegerColumn | null;
  readonly first_system_quantity: IntegerColumn | null;
}

const TASK_STATES: readonly CountTaskState[] = ['OPEN', 'COUNTED', 'APPROVED'];
const LINE_STATES: readonly CountLineState[] = ['PENDING', 'RECOUNT_REQUIRED', 'COUNTED', 'APPROVED'];
const CLASSES: readonly AbcClass[] = ['A', 'B', 'C'];

async function readTask(knex: Knex, taskId: string): Promise<CountTask | undefined> {
  const row = (await knex('audit_count_tasks').where({ task_id: taskId }).first()) as TaskRow | undefined;
  if (!row) return undefined;
  const lines = (await knex('audit_count_lines').where({ task_id: taskId }).orderBy('line_no')) as LineRow[];
  return {
    taskId: row.task_id,
    nodeId: row.node_id,
    blind: Boolean(row.blind),
    toleranceBp: integerOf(row.tolerance_bp, 'tolerance_bp'),
    state: codeOf(TASK_STATES, row.state, 'audit_count_tasks.state'),
    lines: lines.map(lineOf),
    createMs: integerOf(row.create_ms, 'create_ms'),
    approveMs: integerOrNullOf(row.approve_ms, 'approve_ms'),
    approver: row.approver,
    approveRequestId: row.approve_request_id ?? '',
    adjustmentRequestId: row.adjustment_request_id,
  };
}

function lineRow(taskId: string, line: CountLine): LineRow {
  return {
    task_id: taskId,
    line_no: line.lineNo,
    item_id: line.item.itemId,
    unit_of_measure: line.item.unitOfMeasure,
    product_class: line.item.productClass,
    abc_class: line.abcClass,
    tolerance_bp: line.toleranceBp,
    state: line.state,
    counts: line.counts,
    counted_quantity: line.countedQuantity,
    count_ms: line.countMs,
    counter: line.counter,
    system_quantity: line.systemQuantity,
    first_counted_quantity: line.firstCountedQuantity,
    first_system_quantity: line.firstSystemQuantity,
  };
}

function lineOf(row: LineRow): CountLine {
  return {
    lineNo: integerOf(row.line_no, 'line_no'),
    item: { itemId: row.item_id, unitOfMeasure: row.unit_of_measure, productClass: row.product_class },
    abcClass: codeOf(CLASSES, row.abc_class, 'abc_class'),
    toleranceBp: integerOf(row.tolerance_bp, 'tolerance_bp'),
    state: codeOf(LINE_STATES, row.state, 'audit_count_lines.state'),
    counts: integerOf(row.counts, 'counts'),
    countedQuantity: integerOrNullOf(row.counted_quantity, 'counted_quantity'),
    countMs: integerOrNullOf(row.count_ms, 'count_ms'),
    counter: row.counter,
    systemQuantity: integerOrNullOf(row.system_quantity, 'system_quantity'),
    firstCountedQuantity: integerOrNullOf(row.first_counted_quantity, 'first_counted_quantity'),
    firstSystemQuantity: integerOrNullOf(row.first_system_quantity, 'first_system_quantity'),
  };
}
