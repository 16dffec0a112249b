import { randomUUID } from 'node:crypto';
import {
  abcClasses,
  checkApproveCountTask,
  checkCountAccuracyQuery,
  checkCountTime,
  checkCreateCountTask,
  checkRecordCount,
  CLASS_TOLERANCE_BP,
  countAccuracy,
  CountIncompleteError,
  CountLineClosedError,
  countedLine,
  CountLineNotFoundError,
  CountTaskApprovedError,
  CountTaskNotFoundError,
  itemId,
  MOVEMENT_WINDOW_MS,
  NoItemsToCountError,
  RequestIdReusedError,
  taskStateOf,
  varianceOf,
  type Clock,
  type CountAccuracy,
  type CountLine,
  type CountTask,
  type CountTaskState,
  type CreateCountTaskInput,
  type ItemKey,
  type RecordCountInput,
} from '@inventory/domain';
import {
  approvedCountLines,
  changeCountTask,
  insertCountTask,
  itemMovements,
  readCountTask,
  shelfQuantityAt,
  type Database,
} from '@inventory/store';
import { AuditNotCurrentError } from './errors';

/** One line of a cycle count adjustment: a delta on the unsegmented pool's ONHAND of an item at a node. */
export interface CountAdjustment {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly delta: number;
  /** When the discrepancy was seen: the line's count time. */
  readonly sourceMs: number;
}

/** What cycle counts ask of the allocation app. */
export interface CountInventory {
  /** Resolves when the node exists; throws the allocation app's NOT_FOUND otherwise. */
  requireNode(nodeId: string): Promise<void>;
  /** Posts cycle count adjustments (AdjustSupply, purpose CYCLE_COUNT). */
  adjust(requestId: string, actor: string, lines: readonly CountAdjustment[]): Promise<void>;
}

/** A count as RecordCount answers it. */
export interface RecordedCount {
  readonly line: CountLine;
  readonly taskState: CountTaskState;
  readonly blind: boolean;
}

/**
 * Cycle counts (see cycle_count_service.proto): tasks, counts checked against the shelf quantity the supply
 * audit records show at the count time, approval that posts the variances to the allocation app, accuracy.
 */
export class CycleCounts {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly inventory: CountInventory,
    /** Whether the records are current: the consumer follows the change stream. */
    private readonly recordsCurrent: () => boolean,
  ) {}

  async create(input: CreateCountTaskInput): Promise<CountTask> {
    const items = checkCreateCountTask(input);
    await this.inventory.requireNode(input.nodeId);
    const nowMs = this.clock();
    const movements = await itemMovements(this.db, input.nodeId, nowMs - MOVEMENT_WINDOW_MS);
    const classes = abcClasses(movements);
    const chosen = input.topMovers > 0 ? movements.slice(0, input.topMovers).map((m) => m.item) : items;
    if (chosen.length === 0) throw new NoItemsToCountError(input.nodeId);
    const lines = chosen.map((item, i): CountLine => {
      const abcClass = classes.get(itemId(item)) ?? 'C';
      return {
        lineNo: i + 1,
        item,
        abcClass,
        toleranceBp: input.toleranceBp || CLASS_TOLERANCE_BP[abcClass],
        state: 'PENDING',
        counts: 0,
        countedQuantity: null,
        countMs: null,
        counter: '',
        systemQuantity: null,
        firstCountedQuantity: null,
        firstSystemQuantity: null,
      };
    });
    const task: CountTask = {
      taskId: input.taskId || randomUUID(),
      nodeId: input.nodeId,
      blind: input.blind,
      toleranceBp: input.toleranceBp,
      state: 'OPEN',
      lines,
      createMs: nowMs,
      approveMs: null,
      approver: '',
      approveRequestId: '',
      adjustmentRequestId: '',
    };
    const request = JSON.stringify({ ...input, requestId: undefined, items });
    return insertCountTask(this.db, task, input.requestId, request);
  }

  async get(taskId: string): Promise<CountTask> {
    const task = taskId === '' ? undefined : await readCountTask(this.db, taskId);
    if (!task) throw new CountTaskNotFoundError(taskId);
    return task;
  }

  async record(input: RecordCountInput): Promise<RecordedCount> {
    const { item, countMs } = checkRecordCount(input, this.clock());
    const task = await this.get(input.taskId);
    checkCountTime(countMs, task);
    if (!this.recordsCurrent()) throw new AuditNotCurrentError();
    // Records are only ever added, in stream order: the shelf at countMs is read before the task is locked.
    const systemQuantity = await shelfQuantityAt(this.db, item, task.nodeId, countMs);
    // As sent: a retry of a count without a count_time is the same request.
    const request = JSON.stringify({ ...input, item });
    return changeCountTask(this.db, task.taskId, input.requestId, (locked, answered) => {
      if (answered) {
        if (answered.requestJson !== request) throw new RequestIdReusedError(input.requestId, 'RecordCount');
        return { result: JSON.parse(answered.responseJson) as RecordedCount };
      }
      const current = locked as CountTask;
      const line = current.lines.find((l) => itemId(l.item) === itemId(item));
      if (!line) throw new CountLineNotFoundError(task.taskId, item);
      if (current.state === 'APPROVED') throw new CountLineClosedError(line);
      const counted = countedLine(line, {
        countedQuantity: input.countedQuantity,
        countMs,
        counter: input.counter,
        systemQuantity,
      });
      const taskState = taskStateOf(
        current.lines.map((l) => (l.lineNo === line.lineNo ? counted : l)),
        false,
      );
      const result: RecordedCount = { line: counted, taskState, blind: current.blind };
      return {
        result,
        lines: [counted],
        task: { state: taskState },
        answer: { requestJson: request, responseJson: JSON.stringify(result) },
      };
    });
  }

  /**
   * Approves a counted task: claims it (the first approval's request id and approver stand), posts the
   * variances under a request id of the task's own, then closes it. A retry, or another approval of a task
   * claimed but not closed, posts the same request again (the allocation app answers it once) and closes it.
   */
  async approve(input: { requestId: string; taskId: string; approver: string }): Promise<CountTask> {
    checkApproveCountTask(input);
    const claimed = await changeCountTask(this.db, input.taskId, undefined, (task) => {
      if (!task) throw new CountTaskNotFoundError(input.taskId);
      if (task.state === 'APPROVED') {
        if (task.approveRequestId === input.requestId) return { result: { task, done: true } };
        throw new CountTaskApprovedError(task.taskId, task.approver);
      }
      const pending = task.lines.filter((l) => l.state !== 'COUNTED').length;
      if (pending > 0) throw new CountIncompleteError(pending);
      if (task.approveRequestId !== '') return { result: { task, done: false } };
      const claim = { approveRequestId: input.requestId, approver: input.approver };
      return { result: { task: { ...task, ...claim }, done: false }, task: claim };
    });
    if (claimed.done) return claimed.task;
    const task = claimed.task;
    const adjustments = task.lines
      .map((line) => ({ line, variance: varianceOf(line) as number }))
      .filter(({ variance }) => variance !== 0)
      .map(({ line, variance }) => ({
        item: line.item,
        nodeId: task.nodeId,
        delta: variance,
        sourceMs: line.countMs as number,
      }));
    const adjustmentRequestId = adjustments.length > 0 ? `cycle-count-${task.taskId}` : '';
    if (adjustments.length > 0) await this.inventory.adjust(adjustmentRequestId, task.approver, adjustments);
    const approveMs = this.clock();
    return changeCountTask(this.db, task.taskId, undefined, (current) => {
      const closed = current as CountTask;
      if (closed.state === 'APPROVED') return { result: closed };
      const lines = closed.lines.map((l) => ({ ...l, state: 'APPROVED' as const }));
      const approved = { state: 'APPROVED' as const, approveMs, adjustmentRequestId };
      return { result: { ...closed, ...approved, lines }, lines, task: approved };
    });
  }

  async accuracy(filter: { nodeId?: string; startMs?: number; endMs?: number }): Promise<CountAccuracy[]> {
    checkCountAccuracyQuery(filter);
    return countAccuracy(await approvedCountLines(this.db, filter));
  }
}
