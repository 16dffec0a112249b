import type { SegmentKey } from './keys';

/**
 * Allocation plans and rules (DESIGN §2 "Segmentation"): how the stock of one segment type is split between
 * its segments and the unsegmented pool at an item and node.
 */

/**
 * Percentages are whole basis points: 10000 = 100 %, 4000 = 40 %, 3333 = 33.33 %. A fulfilment manager
 * splitting three ways can say 33.33 / 33.33 / 33.34 exactly, and every share stays an integer to compute.
 */
export const BASIS_POINTS = 10_000;

export const ALLOCATION_STRATEGIES = ['FIXED', 'DEMAND_WEIGHTED', 'PROFITABILITY_RANKED'] as const;

export type AllocationStrategyKind = (typeof ALLOCATION_STRATEGIES)[number];

/** One segment's place in a rule: its share and the least it should hold. */
export interface SegmentShare {
  /** A segment of the plan's type, or the unsegmented pool (both fields empty). */
  readonly segment: SegmentKey;
  /** Its share of each supply type's pool, in basis points. */
  readonly basisPoints: number;
  /** Units it should hold whatever its share gives (0 when the rule sets none); a minimum may go with 0 %. */
  readonly minimum: number;
}

/** A segment's share in a profitability-ranked rule, with the margin that orders it. */
export interface RankedShare extends SegmentShare {
  /** Any number: only the order matters, highest first; segments with equal margins keep the rule's order. */
  readonly margin: number;
}

/** Segments in priority order, each with a percentage and a minimum; DESIGN's walk. */
export interface FixedStrategy {
  readonly kind: 'FIXED';
  readonly segments: readonly SegmentShare[];
}

/**
 * Percentages follow each segment's share of the demand created in the last `windowMs` (counted demand and
 * consumed reservations), segments ordered by that demand, highest first. With no demand at all in the window
 * the rule's own percentages apply, in the rule's order.
 */
export interface DemandWeightedStrategy {
  readonly kind: 'DEMAND_WEIGHTED';
  readonly windowMs: number;
  readonly segments: readonly SegmentShare[];
}

/**
 * Segments ordered by margin, highest first; each in turn gets what its commitments need, then its minimum;
 * what is left is split by the percentages in the same order.
 */
export interface ProfitabilityRankedStrategy {
  readonly kind: 'PROFITABILITY_RANKED';
  readonly segments: readonly RankedShare[];
}

export type AllocationStrategy = FixedStrategy | DemandWeightedStrategy | ProfitabilityRankedStrategy;

/** When a rule applies. Every condition set must hold (AND); a rule has at least one. */
export interface RuleConditions {
  /** Empty: any item. */
  readonly itemIds: readonly string[];
  /** Empty: any node. */
  readonly nodeIds: readonly string[];
  /** `null`: any product class. An empty string is a condition too: items without a class. */
  readonly productClass: string | null;
  /** The rule applies from this time (inclusive); `null`: since always. */
  readonly effectiveFromMs: number | null;
  /** ...until this time (exclusive); `null`: for ever. */
  readonly effectiveToMs: number | null;
}

export interface AllocationRule {
  /** Unique within the plan. */
  readonly ruleId: string;
  /** 1 beats 2: of the rules that match an item-node only the best ranked applies, however specific others are. */
  readonly rank: number;
  readonly conditions: RuleConditions;
  readonly strategy: AllocationStrategy;
}

/** The plan of one segment type. Every change makes a new version. */
export interface AllocationPlan {
  readonly segmentType: string;
  readonly rules: readonly AllocationRule[];
  /** How often scheduled rebalancing runs; `null`: never on a schedule. */
  readonly rebalanceEveryMs: number | null;
  /** Whether system-detected triggers rebalance (on by default). */
  readonly triggersEnabled: boolean;
  /** A disabled plan keeps its rules but rebalances nothing. */
  readonly enabled: boolean;
  readonly version: number;
}

/** What rule matching looks at: an item's id and class, at a node. */
export interface ItemAtNode {
  readonly itemId: string;
  readonly productClass: string;
  readonly nodeId: string;
}

/**
 * The rule that applies to an item at a node at `atMs`: the best ranked of the rules whose conditions all
 * hold and whose date range contains `atMs`; `undefined` when none does. Rank wins over specificity.
 * Whether the plan is enabled is the caller's to check: a disabled plan's rules can still be simulated.
 */
export function ruleFor(plan: AllocationPlan, at: ItemAtNode, atMs: number): AllocationRule | undefined {
  let best: AllocationRule | undefined;
  for (const rule of plan.rules) {
    if (matches(rule.conditions, at, atMs) && (best === undefined || rule.rank < best.rank)) best = rule;
  }
  return best;
}

export function matches(c: RuleConditions, at: ItemAtNode, atMs: number): boolean {
  return (
    (c.itemIds.length === 0 || c.itemIds.includes(at.itemId)) &&
    (c.nodeIds.length === 0 || c.nodeIds.includes(at.nodeId)) &&
    (c.productClass === null || c.productClass === at.productClass) &&
    (c.effectiveFromMs === null || atMs >= c.effectiveFromMs) &&
    (c.effectiveToMs === null || atMs < c.effectiveToMs)
  );
}

/** The ids of the plan's rules that give `segment` a share. */
export function rulesNaming(plan: AllocationPlan, segment: SegmentKey): string[] {
  return plan.rules
    .filter((r) =>
      r.strategy.segments.some(
        (s) => s.segment.segmentType === segment.segmentType && s.segment.segment === segment.segment,
      ),
    )
    .map((r) => r.ruleId);
}
