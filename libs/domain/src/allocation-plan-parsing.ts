import {
  ALLOCATION_STRATEGIES,
  BASIS_POINTS,
  type AllocationPlan,
  type AllocationRule,
  type AllocationStrategy,
  type AllocationStrategyKind,
  type RuleConditions,
} from './allocation-plans';
import { isUnsegmented, type SegmentKey } from './keys';
import { MAX_ID_LENGTH, MAX_SEGMENT_TYPE_LENGTH, Violations } from './validation';

/** Most rules one plan may carry, and most segments, items or nodes one rule may name. */
export const MAX_RULES_PER_PLAN = 100;
export const MAX_SEGMENTS_PER_RULE = 100;
export const MAX_CONDITION_IDS = 1000;
/** Scheduled rebalancing runs at most every minute and at least once a year. */
export const MIN_REBALANCE_EVERY_MS = 60_000;
export const MAX_DURATION_MS = 366 * 24 * 3_600_000;

/** One segment of a rule as a caller sent it: unset numbers are `undefined`. */
export interface SegmentShareInput {
  readonly segment: SegmentKey;
  readonly basisPoints: number;
  readonly minimum: number | undefined;
  /** Profitability-ranked rules only. */
  readonly margin: number | undefined;
}

export interface AllocationRuleInput {
  readonly ruleId: string;
  readonly rank: number;
  readonly conditions: {
    readonly itemIds: readonly string[];
    readonly nodeIds: readonly string[];
    readonly productClass: string | undefined;
    readonly effectiveFromMs: number | undefined;
    readonly effectiveToMs: number | undefined;
  };
  /** `undefined` when the caller sent no strategy or one this service does not know. */
  readonly strategy: AllocationStrategyKind | undefined;
  /** Demand-weighted rules only. */
  readonly windowMs: number | undefined;
  readonly segments: readonly SegmentShareInput[];
}

export interface AllocationPlanInput {
  readonly segmentType: string;
  readonly rules: readonly AllocationRuleInput[];
  readonly rebalanceEveryMs: number | undefined;
  /** `undefined`: on, the default. */
  readonly triggersEnabled: boolean | undefined;
  readonly enabled: boolean;
}

/** A segment a plan names, with the first field that names it, for the caller to check it is defined and active. */
export interface NamedSegment {
  readonly field: string;
  readonly segment: SegmentKey;
}

export interface ParsedPlan {
  /** The plan the next version holds; the store gives it its version number. */
  readonly plan: Omit<AllocationPlan, 'version'>;
  /** Every segment the rules name (the unsegmented pool aside), once each, in the order first named. */
  readonly segments: readonly NamedSegment[];
}

/**
 * Checks a plan as a caller sent it, collecting every problem with its field path (for example
 * `rules[1].strategy.segments[0].basis_points`), and throws one InvalidArgumentError listing them all.
 * Whether the segments it names exist and are active is the caller's to check against what is stored:
 * `segments` lists them.
 */
export function parsePlan(input: AllocationPlanInput): ParsedPlan {
  const v = new Violations();
  v.id('segment_type', input.segmentType, MAX_SEGMENT_TYPE_LENGTH);
  if (input.rebalanceEveryMs !== undefined) {
    duration(v, 'rebalance_every', input.rebalanceEveryMs, MIN_REBALANCE_EVERY_MS);
  }
  if (input.rules.length > MAX_RULES_PER_PLAN) {
    v.add('rules', `must list at most ${MAX_RULES_PER_PLAN} rules, not ${input.rules.length}`);
  }
  const ruleIds = new FirstSeen();
  const ranks = new FirstSeen();
  const named = new Map<string, NamedSegment>();
  input.rules.forEach((rule, i) => {
    const field = `rules[${i}]`;
    v.id(`${field}.rule_id`, rule.ruleId);
    const sameId = ruleIds.see(rule.ruleId, i);
    if (rule.ruleId !== '' && sameId !== undefined) v.add(`${field}.rule_id`, `is the rule_id of rules[${sameId}]`);
    if (!Number.isSafeInteger(rule.rank) || rule.rank < 1) v.add(`${field}.rank`, 'must be a whole number, 1 or more');
    else {
      const sameRank = ranks.see(String(rule.rank), i);
      if (sameRank !== undefined) v.add(`${field}.rank`, `is the rank of rules[${sameRank}]; ranks must differ`);
    }
    checkConditions(v, `${field}.conditions`, rule.conditions);
    checkStrategy(v, `${field}.strategy`, rule, input.segmentType, named);
  });
  v.throwIfAny();
  return {
    plan: {
      segmentType: input.segmentType,
      rules: input.rules.map(ruleOf),
      rebalanceEveryMs: input.rebalanceEveryMs ?? null,
      triggersEnabled: input.triggersEnabled ?? true,
      enabled: input.enabled,
    },
    segments: [...named.values()],
  };
}

function checkConditions(v: Violations, field: string, c: AllocationRuleInput['conditions']): void {
  const none =
    c.itemIds.length === 0 &&
    c.nodeIds.length === 0 &&
    c.productClass === undefined &&
    c.effectiveFromMs === undefined &&
    c.effectiveToMs === undefined;
  if (none) v.add(field, 'must set at least one condition: item ids, node ids, product class or a date range');
  if (c.itemIds.length > MAX_CONDITION_IDS) v.add(`${field}.item_ids`, `must list at most ${MAX_CONDITION_IDS}`);
  else c.itemIds.forEach((id, j) => v.text(`${field}.item_ids[${j}]`, id, MAX_ID_LENGTH, true));
  if (c.nodeIds.length > MAX_CONDITION_IDS) v.add(`${field}.node_ids`, `must list at most ${MAX_CONDITION_IDS}`);
  else c.nodeIds.forEach((id, j) => v.id(`${field}.node_ids[${j}]`, id));
  if (c.productClass !== undefined) v.text(`${field}.product_class`, c.productClass, MAX_ID_LENGTH);
  if (c.effectiveFromMs !== undefined) v.time(`${field}.effective_from_time`, c.effectiveFromMs);
  if (c.effectiveToMs !== undefined) v.time(`${field}.effective_to_time`, c.effectiveToMs);
  const from = c.effectiveFromMs;
  const to = c.effectiveToMs;
  if (from !== undefined && to !== undefined && to <= from) {
    v.add(`${field}.effective_to_time`, 'must be after effective_from_time: the range [from, to) would be empty');
  }
}

function checkStrategy(
  v: Violations,
  field: string,
  rule: AllocationRuleInput,
  segmentType: string,
  named: Map<string, NamedSegment>,
): void {
  if (rule.strategy === undefined) {
    v.add(field, `must be one of ${ALLOCATION_STRATEGIES.join(', ')}`);
    return;
  }
  if (rule.strategy === 'DEMAND_WEIGHTED') {
    if (rule.windowMs === undefined) v.add(`${field}.window`, 'is required for a demand-weighted rule');
    else duration(v, `${field}.window`, rule.windowMs, 1);
  } else if (rule.windowMs !== undefined) v.add(`${field}.window`, 'is only for a demand-weighted rule');
  if (rule.segments.length === 0) v.add(`${field}.segments`, 'must list at least one segment');
  if (rule.segments.length > MAX_SEGMENTS_PER_RULE) {
    v.add(`${field}.segments`, `must list at most ${MAX_SEGMENTS_PER_RULE} segments`);
  }
  const inRule = new FirstSeen();
  let total = 0;
  rule.segments.forEach((s, j) => {
    const at = `${field}.segments[${j}]`;
    v.segment(`${at}.segment`, s.segment);
    const typed = segmentType !== '' && s.segment.segmentType !== '';
    if (typed && !isUnsegmented(s.segment) && s.segment.segmentType !== segmentType) {
      v.add(`${at}.segment.segment_type`, `must be the plan's segment type ${segmentType}`);
    }
    const id = JSON.stringify([s.segment.segmentType, s.segment.segment]);
    const first = inRule.see(id, j);
    if (first !== undefined) v.add(`${at}.segment`, `names the segment of segments[${first}] again`);
    else if (!isUnsegmented(s.segment) && !named.has(id)) named.set(id, { field: `${at}.segment`, segment: s.segment });
    if (!Number.isSafeInteger(s.basisPoints) || s.basisPoints < 0 || s.basisPoints > BASIS_POINTS) {
      v.add(`${at}.basis_points`, `must be a whole number from 0 to ${BASIS_POINTS} (10000 = 100 %)`);
    } else total += s.basisPoints;
    if (s.minimum !== undefined) v.quantity(`${at}.minimum`, s.minimum, 0);
    if (rule.strategy === 'PROFITABILITY_RANKED') {
      if (s.margin === undefined) v.add(`${at}.margin`, 'is required for a profitability-ranked rule');
      else if (!Number.isFinite(s.margin)) v.add(`${at}.margin`, 'must be a finite number');
    } else if (s.margin !== undefined) v.add(`${at}.margin`, 'is only for a profitability-ranked rule');
  });
  if (rule.segments.length > 0 && total !== BASIS_POINTS) {
    v.add(`${field}.segments`, `percentages must sum to 100 % (${BASIS_POINTS} basis points), not ${total}`);
  }
}

function duration(v: Violations, field: string, ms: number, minMs: number): void {
  if (!Number.isSafeInteger(ms) || ms < minMs || ms > MAX_DURATION_MS) {
    v.add(field, `must be a whole number of milliseconds from ${minMs} to ${MAX_DURATION_MS} (366 days)`);
  }
}

function ruleOf(rule: AllocationRuleInput): AllocationRule {
  const c = rule.conditions;
  const conditions: RuleConditions = {
    itemIds: [...c.itemIds],
    nodeIds: [...c.nodeIds],
    productClass: c.productClass ?? null,
    effectiveFromMs: c.effectiveFromMs ?? null,
    effectiveToMs: c.effectiveToMs ?? null,
  };
  return { ruleId: rule.ruleId, rank: rule.rank, conditions, strategy: strategyOf(rule) };
}

function strategyOf(rule: AllocationRuleInput): AllocationStrategy {
  const shares = rule.segments.map((s) => ({
    segment: { segmentType: s.segment.segmentType, segment: s.segment.segment },
    basisPoints: s.basisPoints,
    minimum: s.minimum ?? 0,
  }));
  switch (rule.strategy) {
    case 'DEMAND_WEIGHTED':
      return { kind: 'DEMAND_WEIGHTED', windowMs: rule.windowMs!, segments: shares };
    case 'PROFITABILITY_RANKED':
      return {
        kind: 'PROFITABILITY_RANKED',
        segments: shares.map((s, j) => ({ ...s, margin: rule.segments[j]!.margin! })),
      };
    default:
      return { kind: 'FIXED', segments: shares };
  }
}

/** Remembers the first index each key was seen at. */
class FirstSeen {
  private readonly first = new Map<string, number>();

  /** The index `key` was first seen at, or `undefined` (and remembers `index`) the first time. */
  see(key: string, index: number): number | undefined {
    const seen = this.first.get(key);
    if (seen === undefined) this.first.set(key, index);
    return seen;
  }
}
