import type * as pb from '@inventory/contracts';
import type {
  AllocationPlanInput,
  AllocationRule,
  AllocationRuleInput,
  AllocationStrategy,
  AllocationStrategyKind,
  SegmentShareInput,
} from '@inventory/domain';
import type { AllocationPlanVersion } from '@inventory/store';
import { fromMs, fromSegment, toMs, toSegment } from './translate';

/** A plan as the caller sent it; unset optional fields stay `undefined` for parsePlan to judge. */
export function toAllocationPlanInput(plan: pb.AllocationPlan | undefined): AllocationPlanInput {
  return {
    segmentType: plan?.segmentType ?? '',
    rules: (plan?.rules ?? []).map(toRuleInput),
    rebalanceEveryMs: toDurationMs(plan?.rebalanceEvery),
    triggersEnabled: plan?.triggersEnabled,
    enabled: plan?.enabled ?? false,
  };
}

function toRuleInput(rule: pb.AllocationRule): AllocationRuleInput {
  const c = rule.conditions;
  return {
    ruleId: rule.ruleId,
    rank: rule.rank,
    conditions: {
      itemIds: c?.itemIds ?? [],
      nodeIds: c?.nodeIds ?? [],
      productClass: c?.productClass,
      effectiveFromMs: toMs(c?.effectiveFromTime),
      effectiveToMs: toMs(c?.effectiveToTime),
    },
    strategy: strategyKindOf(rule.strategy),
    windowMs: toDurationMs(rule.strategy?.window),
    segments: (rule.strategy?.segments ?? []).map((s): SegmentShareInput => ({
      segment: toSegment(s.segment),
      basisPoints: s.basisPoints,
      minimum: s.minimum,
      margin: s.margin,
    })),
  };
}

function strategyKindOf(strategy: pb.AllocationStrategy | undefined): AllocationStrategyKind | undefined {
  if (strategy?.fixed) return 'FIXED';
  if (strategy?.demandWeighted) return 'DEMAND_WEIGHTED';
  if (strategy?.profitabilityRanked) return 'PROFITABILITY_RANKED';
  return undefined;
}

/** Milliseconds, fractional when the duration is not a whole number of them (parsePlan refuses that). */
function toDurationMs(duration: pb.Duration | undefined): number | undefined {
  return duration === undefined ? undefined : duration.seconds * 1000 + duration.nanos / 1_000_000;
}

function fromDurationMs(ms: number): pb.Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function fromStrategy(strategy: AllocationStrategy): pb.AllocationStrategy {
  const segments = strategy.segments.map((s): pb.AllocationSegmentShare => ({
    segment: fromSegment(s.segment),
    basisPoints: s.basisPoints,
    minimum: s.minimum === 0 ? undefined : s.minimum,
    margin: 'margin' in s ? s.margin : undefined,
  }));
  switch (strategy.kind) {
    case 'FIXED':
      return { fixed: {}, segments, window: undefined };
    case 'DEMAND_WEIGHTED':
      return { demandWeighted: {}, segments, window: fromDurationMs(strategy.windowMs) };
    case 'PROFITABILITY_RANKED':
      return { profitabilityRanked: {}, segments, window: undefined };
  }
}

function fromRule(rule: AllocationRule): pb.AllocationRule {
  const c = rule.conditions;
  return {
    ruleId: rule.ruleId,
    rank: rule.rank,
    conditions: {
      itemIds: [...c.itemIds],
      nodeIds: [...c.nodeIds],
      productClass: c.productClass ?? undefined,
      effectiveFromTime: c.effectiveFromMs === null ? undefined : fromMs(c.effectiveFromMs),
      effectiveToTime: c.effectiveToMs === null ? undefined : fromMs(c.effectiveToMs),
    },
    strategy: fromStrategy(rule.strategy),
  };
}

/** A stored version of a plan. */
export function fromAllocationPlanVersion(v: AllocationPlanVersion): pb.AllocationPlan {
  return {
    segmentType: v.plan.segmentType,
    version: v.plan.version,
    rules: v.plan.rules.map(fromRule),
    rebalanceEvery: v.plan.rebalanceEveryMs === null ? undefined : fromDurationMs(v.plan.rebalanceEveryMs),
    triggersEnabled: v.plan.triggersEnabled,
    enabled: v.plan.enabled,
    createTime: fromMs(v.createMs),
    requestId: v.requestId,
  };
}
