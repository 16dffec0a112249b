import { DomainError, InvalidArgumentError } from './errors';
import { itemKey, type ItemKey } from './keys';
import { MAX_REQUEST_ID_LENGTH, Violations } from './validation';

/**
 * Cycle counts (audit.v1.CycleCountService): count tasks for a node and items, the variance of each count
 * against the system quantity at its count time, recounts beyond tolerance, approval, and inventory record
 * accuracy. What is counted is the shelf: ONHAND of the pool and every segment together.
 */

export type AbcClass = 'A' | 'B' | 'C';
export type CountLineState = 'PENDING' | 'RECOUNT_REQUIRED' | 'COUNTED' | 'APPROVED';
export type CountTaskState = 'OPEN' | 'COUNTED' | 'APPROVED';

/** Each class's tolerance, in basis points of the system quantity: common practice (DESIGN §2 "Audit"). */
export const CLASS_TOLERANCE_BP: Readonly<Record<AbcClass, number>> = { A: 100, B: 300, C: 500 };
/** How far back movement is summed for ABC classes and top movers. */
export const MOVEMENT_WINDOW_MS = 90 * 24 * 3_600_000;
export const MAX_COUNT_LINES = 1000;

/** An item's movement at a node: the sum of |change| of its ONHAND syncs and adjusts in the window. */
export interface ItemMovement {
  readonly item: ItemKey;
  readonly movement: number;
}

/**
 * ABC classes by movement, Pareto style: in order of movement, the items that make the first 80 % of the
 * node's movement are A, the next 15 % B, the rest C. An item is in the class where its movement starts.
 */
export function abcClasses(movements: readonly ItemMovement[]): Map<string, AbcClass> {
  const sorted = [...movements].sort((a, b) => b.movement - a.movement);
  const total = sorted.reduce((sum, m) => sum + m.movement, 0);
  const classes = new Map<string, AbcClass>();
  let before = 0;
  for (const m of sorted) {
    const share = total > 0 ? before / total : 1;
    classes.set(itemId(m.item), m.movement > 0 && share < 0.8 ? 'A' : m.movement > 0 && share < 0.95 ? 'B' : 'C');
    before += m.movement;
  }
  return classes;
}

/** A string naming an item: its three key fields. */
export function itemId(item: ItemKey): string {
  return JSON.stringify([item.itemId, item.unitOfMeasure, item.productClass]);
}

/** Whether a variance is within `toleranceBp` basis points of the system quantity (never netted: |variance|). */
export function isWithinTolerance(variance: number, systemQuantity: number, toleranceBp: number): boolean {
  return Math.abs(variance) * 10_000 <= toleranceBp * Math.max(systemQuantity, 0);
}

/** A count line as the task keeps it. */
export interface CountLine {
  readonly lineNo: number;
  readonly item: ItemKey;
  readonly abcClass: AbcClass;
  readonly toleranceBp: number;
  readonly state: CountLineState;
  readonly counts: number;
  readonly countedQuantity: number | null;
  readonly countMs: number | null;
  readonly counter: string;
  readonly systemQuantity: number | null;
  readonly firstCountedQuantity: number | null;
  readonly firstSystemQuantity: number | null;
}

export interface CountTask {
  readonly taskId: string;
  readonly nodeId: string;
  readonly blind: boolean;
  /** 0 when each line's tolerance comes from its class. */
  readonly toleranceBp: number;
  readonly state: CountTaskState;
  readonly lines: readonly CountLine[];
  readonly createMs: number;
  readonly approveMs: number | null;
  readonly approver: string;
  /** The request id of the approval that claimed the task (empty before one did). */
  readonly approveRequestId: string;
  readonly adjustmentRequestId: string;
}

/** The variance of a counted line (counted - system); null until counted. */
export function varianceOf(line: CountLine): number | null {
  return line.countedQuantity === null || line.systemQuantity === null
    ? null
    : line.countedQuantity - line.systemQuantity;
}

/** Whether a counted line is within its tolerance; null until counted. */
export function isLineWithinTolerance(line: CountLine): boolean | null {
  const variance = varianceOf(line);
  return variance === null ? null : isWithinTolerance(variance, line.systemQuantity as number, line.toleranceBp);
}

/** The first count's variance of a recounted line; null for a line counted once or not at all. */
export function firstVarianceOf(line: CountLine): number | null {
  return line.firstCountedQuantity === null || line.firstSystemQuantity === null
    ? null
    : line.firstCountedQuantity - line.firstSystemQuantity;
}

/**
 * A line after a count: a first count beyond tolerance asks for a recount; otherwise, and always after a
 * recount, the line is counted and awaits approval.
 */
export function countedLine(
  line: CountLine,
  count: { countedQuantity: number; countMs: number; counter: string; systemQuantity: number },
): CountLine {
  if (line.state !== 'PENDING' && line.state !== 'RECOUNT_REQUIRED') throw new CountLineClosedError(line);
  const within = isWithinTolerance(
    count.countedQuantity - count.systemQuantity,
    count.systemQuantity,
    line.toleranceBp,
  );
  const first = line.counts === 0;
  return {
    ...line,
    ...count,
    counts: line.counts + 1,
    state: first && !within ? 'RECOUNT_REQUIRED' : 'COUNTED',
    firstCountedQuantity: first ? null : (line.firstCountedQuantity ?? line.countedQuantity),
    firstSystemQuantity: first ? null : (line.firstSystemQuantity ?? line.systemQuantity),
  };
}

/** A task's state from its lines: open while a line waits for a count. */
export function taskStateOf(lines: readonly CountLine[], approved: boolean): CountTaskState {
  if (approved) return 'APPROVED';
  return lines.every((l) => l.state === 'COUNTED' || l.state === 'APPROVED') ? 'COUNTED' : 'OPEN';
}

/** Whether a task's system quantities and variances may be shown: not to a blind task's counters. */
export function showsSystemQuantities(task: Pick<CountTask, 'blind' | 'state'>): boolean {
  return !task.blind || task.state !== 'OPEN';
}

export interface CreateCountTaskInput {
  readonly requestId: string;
  /** Empty for a generated id. */
  readonly taskId: string;
  readonly nodeId: string;
  readonly items: readonly ItemKey[];
  readonly topMovers: number;
  readonly blind: boolean;
  readonly toleranceBp: number;
}

/** Checks a CreateCountTask request; returns its items with their defaults filled in. */
export function checkCreateCountTask(input: CreateCountTaskInput): ItemKey[] {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  if (input.taskId !== '') v.id('task_id', input.taskId);
  v.id('node_id', input.nodeId);
  if ((input.items.length === 0) === (input.topMovers === 0)) v.add('items', 'set exactly one of items and top_movers');
  if (input.items.length > MAX_COUNT_LINES) v.add('items', `must have at most ${MAX_COUNT_LINES} entries`);
  const seen = new Map<string, number>();
  const items = input.items.map((item, i) => {
    v.item(`items[${i}]`, item);
    const filled = itemKey(item.itemId, item.unitOfMeasure, item.productClass);
    const first = seen.get(itemId(filled));
    if (first !== undefined) v.add(`items[${i}]`, `names the same item as items[${first}]`);
    else seen.set(itemId(filled), i);
    return filled;
  });
  if (!Number.isInteger(input.topMovers) || input.topMovers < 0 || input.topMovers > MAX_COUNT_LINES)
    v.add('top_movers', `must be from 0 to ${MAX_COUNT_LINES}`);
  if (!Number.isInteger(input.toleranceBp) || input.toleranceBp < 0 || input.toleranceBp > 10_000)
    v.add('tolerance_basis_points', 'must be from 0 to 10000');
  v.throwIfAny();
  return items;
}

export interface RecordCountInput {
  readonly requestId: string;
  readonly taskId: string;
  readonly item: ItemKey | undefined;
  readonly countedQuantity: number;
  /** NaN when not a time; undefined for now. */
  readonly countMs: number | undefined;
  readonly counter: string;
}

/**
 * Checks a RecordCount request against this server's clock; returns the item with its defaults and the
 * count time (now when the request gives none).
 */
export function checkRecordCount(input: RecordCountInput, nowMs: number): { item: ItemKey; countMs: number } {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.text('task_id', input.taskId, 64, true);
  v.item('item', input.item);
  v.quantity('counted_quantity', input.countedQuantity, 0);
  const countMs = input.countMs ?? nowMs;
  v.time('count_time', countMs);
  if (countMs > nowMs) v.add('count_time', 'must not be in the future');
  v.text('counter', input.counter, MAX_REQUEST_ID_LENGTH, true);
  v.throwIfAny();
  const item = input.item as ItemKey;
  return { item: itemKey(item.itemId, item.unitOfMeasure, item.productClass), countMs };
}

/** Checks an ApproveCountTask request. */
export function checkApproveCountTask(input: { requestId: string; taskId: string; approver: string }): void {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.text('task_id', input.taskId, 64, true);
  v.text('approver', input.approver, MAX_REQUEST_ID_LENGTH, true);
  v.throwIfAny();
}

/** Accuracy of one node for one class (or all, `abcClass` undefined). */
export interface CountAccuracy {
  readonly nodeId: string;
  readonly abcClass?: AbcClass;
  readonly counts: number;
  readonly withinTolerance: number;
  readonly totalAbsoluteVariance: number;
}

/** Inventory record accuracy of approved lines, per node: its total, then each class with counts. */
export function countAccuracy(lines: ReadonlyArray<{ nodeId: string; line: CountLine }>): CountAccuracy[] {
  const byNode = new Map<string, Map<AbcClass | 'ALL', { counts: number; within: number; variance: number }>>();
  for (const { nodeId, line } of lines) {
    const variance = varianceOf(line);
    if (variance === null) continue;
    const groups = byNode.get(nodeId) ?? new Map();
    byNode.set(nodeId, groups);
    for (const key of ['ALL', line.abcClass] as const) {
      const g = groups.get(key) ?? { counts: 0, within: 0, variance: 0 };
      g.counts++;
      if (isWithinTolerance(variance, line.systemQuantity as number, line.toleranceBp)) g.within++;
      g.variance += Math.abs(variance);
      groups.set(key, g);
    }
  }
  return [...byNode.keys()].sort().flatMap((nodeId) => {
    const groups = byNode.get(nodeId)!;
    return (['ALL', 'A', 'B', 'C'] as const)
      .filter((key) => groups.has(key))
      .map((key) => {
        const g = groups.get(key)!;
        return {
          nodeId,
          abcClass: key === 'ALL' ? undefined : key,
          counts: g.counts,
          withinTolerance: g.within,
          totalAbsoluteVariance: g.variance,
        };
      });
  });
}

/** Counts within tolerance / counts, in basis points; 0 without counts. */
export function accuracyBasisPoints(a: Pick<CountAccuracy, 'counts' | 'withinTolerance'>): number {
  return a.counts > 0 ? Math.floor((a.withinTolerance * 10_000) / a.counts) : 0;
}

/** Thrown when a count is recorded for a line that needs none. */
export class CountLineClosedError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'COUNT_LINE_CLOSED';

  constructor(readonly line: Pick<CountLine, 'lineNo' | 'state' | 'item'>) {
    super(`the line of item ${line.item.itemId} is ${line.state}: it takes no count`);
  }

  override get metadata(): Record<string, string> {
    return { item_id: this.line.item.itemId, state: this.line.state };
  }
}

/** Thrown when a task is approved while a line still waits for a count. */
export class CountIncompleteError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'COUNT_INCOMPLETE';

  constructor(readonly pendingLines: number) {
    super(`${pendingLines} line(s) still wait for a count or a recount`);
  }

  override get metadata(): Record<string, string> {
    return { pending_lines: String(this.pendingLines) };
  }
}

/** Thrown when a count task does not exist. */
export class CountTaskNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'COUNT_TASK_NOT_FOUND';

  constructor(readonly taskId: string) {
    super(`count task not found: ${taskId}`);
  }

  override get metadata(): Record<string, string> {
    return { task_id: this.taskId };
  }
}

/** Thrown when a count names an item its task does not count. */
export class CountLineNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'COUNT_LINE_NOT_FOUND';

  constructor(
    readonly taskId: string,
    readonly item: ItemKey,
  ) {
    super(`count task ${taskId} has no line for item ${item.itemId}`);
  }

  override get metadata(): Record<string, string> {
    return { task_id: this.taskId, item_id: this.item.itemId };
  }
}

/** Thrown when a task was already approved by another request. */
export class CountTaskApprovedError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'COUNT_TASK_APPROVED';

  constructor(
    readonly taskId: string,
    readonly approver: string,
  ) {
    super(`count task ${taskId} was already approved by ${approver}`);
  }

  override get metadata(): Record<string, string> {
    return { task_id: this.taskId, approver: this.approver };
  }
}

/** Thrown when a top-movers task finds no item with movement at its node. */
export class NoItemsToCountError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'NO_ITEMS_TO_COUNT';

  constructor(readonly nodeId: string) {
    super(`no item has moved at node ${nodeId} in the last 90 days: name the items to count`);
  }

  override get metadata(): Record<string, string> {
    return { node_id: this.nodeId };
  }
}

/** Checks a GetCountAccuracy request. */
export function checkCountAccuracyQuery(filter: { nodeId?: string; startMs?: number; endMs?: number }): void {
  const v = new Violations();
  if (filter.nodeId !== undefined) v.id('node_id', filter.nodeId);
  if (filter.startMs !== undefined) v.time('start_time', filter.startMs);
  if (filter.endMs !== undefined) v.time('end_time', filter.endMs);
  if (filter.startMs !== undefined && filter.endMs !== undefined && !(filter.endMs > filter.startMs))
    v.add('end_time', 'must be after start_time');
  v.throwIfAny();
}

/** Checks that a count was made after its task was created. */
export function checkCountTime(countMs: number, task: Pick<CountTask, 'createMs'>): void {
  if (countMs < task.createMs)
    throw new InvalidArgumentError([
      {
        field: 'count_time',
        description: `must not be before the task was created (${new Date(task.createMs).toISOString()})`,
      },
    ]);
}

/** Thrown when a task id chosen by the caller is taken by another request's task. */
export class CountTaskAlreadyExistsError extends DomainError {
  readonly category = 'ALREADY_EXISTS';
  readonly reason = 'COUNT_TASK_ALREADY_EXISTS';

  constructor(readonly taskId: string) {
    super(`count task ${taskId} already exists (made by another request)`);
  }

  override get metadata(): Record<string, string> {
    return { task_id: this.taskId };
  }
}
