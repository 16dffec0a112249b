import * as pb from '@inventory/contracts';
import {
  accuracyBasisPoints,
  firstVarianceOf,
  isLineWithinTolerance,
  showsSystemQuantities,
  varianceOf,
  type AbcClass,
  type CountAccuracy,
  type CountLine,
  type CountTask,
  type CountTaskState,
} from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { CycleCounts } from '../audit/cycle-counts';

type Server = pb.auditV1.CycleCountServiceServer;
const { auditV1 } = pb;

export function cycleCountServiceHandlers(counts: CycleCounts, logger: Logger): Server {
  return {
    createCountTask: unary('CreateCountTask', logger, async (req: pb.auditV1.CreateCountTaskRequest) => ({
      task: toTask(
        await counts.create({
          requestId: req.requestId,
          taskId: req.taskId,
          nodeId: req.nodeId,
          items: req.items,
          topMovers: req.topMovers,
          blind: req.blind,
          toleranceBp: req.toleranceBasisPoints,
        }),
      ),
    })),

    getCountTask: unary('GetCountTask', logger, async (req: pb.auditV1.GetCountTaskRequest) => ({
      task: toTask(await counts.get(req.taskId)),
    })),

    recordCount: unary('RecordCount', logger, async (req: pb.auditV1.RecordCountRequest) => {
      const recorded = await counts.record({
        requestId: req.requestId,
        taskId: req.taskId,
        item: req.item,
        countedQuantity: req.countedQuantity,
        countMs: req.countTime?.getTime(),
        counter: req.counter,
      });
      return {
        line: toLine(recorded.line, showsSystemQuantities({ blind: recorded.blind, state: recorded.taskState })),
        taskState: TASK_STATES[recorded.taskState],
      };
    }),

    approveCountTask: unary('ApproveCountTask', logger, async (req: pb.auditV1.ApproveCountTaskRequest) => ({
      task: toTask(await counts.approve({ requestId: req.requestId, taskId: req.taskId, approver: req.approver })),
    })),

    getCountAccuracy: unary('GetCountAccuracy', logger, async (req: pb.auditV1.GetCountAccuracyRequest) => ({
      accuracy: (
        await counts.accuracy({
          nodeId: req.nodeId || undefined,
          startMs: req.startTime?.getTime(),
          endMs: req.endTime?.getTime(),
        })
      ).map(toAccuracy),
    })),
  };
}

const TASK_STATES: Record<CountTaskState, pb.auditV1.CountTaskState> = {
  OPEN: auditV1.CountTaskState.COUNT_TASK_STATE_OPEN,
  COUNTED: auditV1.CountTaskState.COUNT_TASK_STATE_COUNTED,
  APPROVED: auditV1.CountTaskState.COUNT_TASK_STATE_APPROVED,
};

const LINE_STATES: Record<CountLine['state'], pb.auditV1.CountLineState> = {
  PENDING: auditV1.CountLineState.COUNT_LINE_STATE_PENDING,
  RECOUNT_REQUIRED: auditV1.CountLineState.COUNT_LINE_STATE_RECOUNT_REQUIRED,
  COUNTED: auditV1.CountLineState.COUNT_LINE_STATE_COUNTED,
  APPROVED: auditV1.CountLineState.COUNT_LINE_STATE_APPROVED,
};

const CLASSES: Record<AbcClass, pb.auditV1.AbcClass> = {
  A: auditV1.AbcClass.ABC_CLASS_A,
  B: auditV1.AbcClass.ABC_CLASS_B,
  C: auditV1.AbcClass.ABC_CLASS_C,
};

function toTask(task: CountTask): pb.auditV1.CountTask {
  const shown = showsSystemQuantities(task);
  return {
    taskId: task.taskId,
    nodeId: task.nodeId,
    blind: task.blind,
    toleranceBasisPoints: task.toleranceBp,
    state: TASK_STATES[task.state],
    lines: task.lines.map((line) => toLine(line, shown)),
    createTime: new Date(task.createMs),
    approveTime: task.approveMs === null ? undefined : new Date(task.approveMs),
    approver: task.approver,
    adjustmentRequestId: task.adjustmentRequestId,
  };
}

/** A line; its system quantity and variances only when `shown` (not to a blind task's counters). */
function toLine(line: CountLine, shown: boolean): pb.auditV1.CountLine {
  const hidden = <T>(value: T | null): T | undefined => (shown && value !== null ? value : undefined);
  return {
    item: { ...line.item },
    abcClass: CLASSES[line.abcClass],
    toleranceBasisPoints: line.toleranceBp,
    state: LINE_STATES[line.state],
    countedQuantity: line.countedQuantity ?? undefined,
    countTime: line.countMs === null ? undefined : new Date(line.countMs),
    counter: line.counter,
    counts: line.counts,
    systemQuantity: hidden(line.countedQuantity === null ? null : line.systemQuantity),
    variance: hidden(varianceOf(line)),
    withinTolerance: hidden(isLineWithinTolerance(line)),
    firstCountedQuantity: line.firstCountedQuantity ?? undefined,
    firstVariance: hidden(firstVarianceOf(line)),
  };
}

function toAccuracy(a: CountAccuracy): pb.auditV1.CountAccuracy {
  return {
    nodeId: a.nodeId,
    abcClass: a.abcClass ? CLASSES[a.abcClass] : auditV1.AbcClass.ABC_CLASS_UNSPECIFIED,
    counts: a.counts,
    withinTolerance: a.withinTolerance,
    accuracyBasisPoints: accuracyBasisPoints(a),
    totalAbsoluteVariance: a.totalAbsoluteVariance,
  };
}
