import * as pb from '@inventory/contracts';
import type {
  AllocationOutcome,
  AllocationRecord,
  ItemNodeAllocation,
  RebalanceRun,
  RebalanceRunState,
  RebalanceTrigger,
  SupplyPurpose,
  SupplyTypeRebalance,
} from '@inventory/domain';
import { fromItemKey, fromMs, fromSegment, fromSupplyType } from './translate';

const OUTCOMES: Record<AllocationOutcome, pb.AllocationOutcome> = {
  TARGET: pb.AllocationOutcome.ALLOCATION_OUTCOME_TARGET,
  OWN_COMMITMENTS: pb.AllocationOutcome.ALLOCATION_OUTCOME_OWN_COMMITMENTS,
  LEFTOVER: pb.AllocationOutcome.ALLOCATION_OUTCOME_LEFTOVER,
  OTHERS_COMMITMENTS: pb.AllocationOutcome.ALLOCATION_OUTCOME_OTHERS_COMMITMENTS,
  NOTHING_LEFT: pb.AllocationOutcome.ALLOCATION_OUTCOME_NOTHING_LEFT,
  NOT_REBALANCED: pb.AllocationOutcome.ALLOCATION_OUTCOME_NOT_REBALANCED,
};

export function fromSupplyTypeAllocation(type: Omit<SupplyTypeRebalance, 'moves'>): pb.SupplyTypeAllocation {
  return {
    supplyType: fromSupplyType(type.supplyType),
    pool: type.pool,
    segments: type.segments.map((s) => ({
      segment: fromSegment(s.segment),
      before: s.before,
      after: s.after,
      target: s.target,
      minimumApplied: s.minimumApplied,
      committedFloor: s.floor,
      outcome: OUTCOMES[s.outcome],
    })),
  };
}

export function fromItemNodeAllocation(a: ItemNodeAllocation): pb.ItemNodeAllocation {
  const r = a.result;
  return {
    item: fromItemKey(a.item),
    nodeId: a.nodeId,
    ruleId: a.ruleId,
    planVersion: a.planVersion,
    sharesFrom:
      r === null
        ? pb.SharesSource.SHARES_SOURCE_UNSPECIFIED
        : r.sharesFrom === 'DEMAND'
          ? pb.SharesSource.SHARES_SOURCE_DEMAND
          : pb.SharesSource.SHARES_SOURCE_RULE,
    supplyTypes: (r?.types ?? []).map(fromSupplyTypeAllocation),
    moves: (r?.moves ?? []).map((m) => ({
      supplyType: fromSupplyType(m.supplyType),
      fromSegment: fromSegment(m.from),
      toSegment: fromSegment(m.to),
      quantity: m.quantity,
    })),
    loans: (r?.loans ?? []).map((l) => ({ segment: fromSegment(l.segment), before: l.before, after: l.after })),
  };
}

export function fromAllocationRecord(record: AllocationRecord): pb.SupplyAllocationRecord {
  return {
    segmentType: record.segmentType,
    ruleId: record.ruleId,
    planVersion: record.planVersion,
    supplyType: fromSupplyTypeAllocation(record.supplyType),
  };
}

const PURPOSES: Record<SupplyPurpose, pb.SupplyPurpose> = {
  SUPPLY_SYNC: pb.SupplyPurpose.SUPPLY_PURPOSE_SUPPLY_SYNC,
  SUPPLY_ADJUSTMENT: pb.SupplyPurpose.SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT,
  SEGMENT_ALLOCATION: pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_ALLOCATION,
  SEGMENT_REALLOCATION: pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_REALLOCATION,
  CYCLE_COUNT: pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT,
};

export const fromSupplyPurpose = (purpose: SupplyPurpose): pb.SupplyPurpose => PURPOSES[purpose];

const TRIGGERS: Record<RebalanceTrigger, pb.RebalanceTrigger> = {
  REQUESTED: pb.RebalanceTrigger.REBALANCE_TRIGGER_REQUESTED,
  SCHEDULED: pb.RebalanceTrigger.REBALANCE_TRIGGER_SCHEDULED,
  SYSTEM_DETECTED: pb.RebalanceTrigger.REBALANCE_TRIGGER_SYSTEM_DETECTED,
};

const STATES: Record<RebalanceRunState, pb.RebalanceRunState> = {
  RUNNING: pb.RebalanceRunState.REBALANCE_RUN_STATE_RUNNING,
  SUCCEEDED: pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED,
  CANCELLED: pb.RebalanceRunState.REBALANCE_RUN_STATE_CANCELLED,
  FAILED: pb.RebalanceRunState.REBALANCE_RUN_STATE_FAILED,
};

export function toRunState(state: pb.RebalanceRunState): RebalanceRunState | undefined {
  return (Object.keys(STATES) as RebalanceRunState[]).find((s) => STATES[s] === state);
}

export function fromRebalanceRun(run: RebalanceRun): pb.RebalanceRun {
  return {
    runId: run.runId,
    segmentType: run.segmentType,
    itemIds: [...run.itemIds],
    nodeIds: [...run.nodeIds],
    trigger: TRIGGERS[run.trigger],
    state: STATES[run.state],
    planVersion: run.planVersion,
    itemNodesTotal: run.itemNodesTotal,
    itemNodesDone: run.itemNodesDone,
    itemNodesChanged: run.itemNodesChanged,
    moves: run.moves,
    unitsMoved: run.unitsMoved,
    startTime: fromMs(run.startMs),
    finishTime: run.finishMs === null ? undefined : fromMs(run.finishMs),
    error: run.error ?? '',
    actor: run.actor,
  };
}
