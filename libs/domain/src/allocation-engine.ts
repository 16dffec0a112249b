import { BASIS_POINTS, type AllocationRule, type RankedShare, type SegmentShare } from './allocation-plans';
import { isUnsegmented, UNSEGMENTED, type SegmentKey } from './keys';
import { SUPPLY_TYPES, type SupplyType } from './supply';

/**
 * The allocation engine: how one rule splits the stock of one item at one node between the segments it names
 * and the unsegmented pool (DESIGN §2 "Segmentation"). Pure and integer-only; the caller loads the positions,
 * applies the moves and records them.
 *
 * - Each supply type is its own pool: the summed quantity of that type over the segments the rule names and
 *   the unsegmented pool (which always takes part: it gets what is left). The rule's percentages and minimums
 *   apply to each type's pool alike. Segments the rule does not name are not touched.
 * - The committed floor applies to ONHAND, the type that counts now: commitments (counted demand + active holds)
 *   are due now, and supply of the other types counts only from its ETA, so it cannot be relied on to cover
 *   them. The other types have no floor.
 * - The floor, per segment: first it keeps the ONHAND it holds up to its commitments (a rebalance never takes
 *   what is committed); then, in the walk's order, what its commitments exceed its own supply by is covered
 *   from the units nobody has committed. That deficit is its loan from the pool (or its shortage), so a
 *   borrowing segment's loan is repaid before the rule's shares are handed out, and its own supply grows to
 *   cover its commitments. The walk then hands out what is left.
 * - A type where some position is below zero (a decrement that arrived before its sync) is left as it is:
 *   there is no pool to split until the figures settle.
 */

/** One segment's stock at the item-node, as the rebalance sees it. The pool's position has an empty segment. */
export interface SegmentPosition {
  readonly segment: SegmentKey;
  /** Its quantity of each supply type; a type not listed is 0. */
  readonly supply: Partial<Readonly<Record<SupplyType, number>>>;
  /** Counted demand + active holds of this segment at the item-node. */
  readonly commitments: number;
  /** Its loan from the pool now (borrowing's `loanOf`); 0 for the pool. */
  readonly loan: number;
  /** Demand created in a demand-weighted rule's window (counted demand and consumed reservations); else 0. */
  readonly demandInWindow: number;
}

export interface RebalanceInput {
  readonly rule: AllocationRule;
  /** Positions of the segments the rule names and of the pool; a participant missing here holds nothing. */
  readonly positions: readonly SegmentPosition[];
}

/** How a segment came out against what the rule gives it. */
export type AllocationOutcome =
  /** It holds exactly its target. */
  | 'TARGET'
  /** More than its target: its own commitments (its committed floor) need more. */
  | 'OWN_COMMITMENTS'
  /** The pool, more than its target: the units left after the walk. */
  | 'LEFTOVER'
  /** Less than its target: other segments' committed floors came out of the pool first. */
  | 'OTHERS_COMMITMENTS'
  /** Less than its target: the segments before it in the walk took what there was. */
  | 'NOTHING_LEFT'
  /** The type was not rebalanced (a position below zero). */
  | 'NOT_REBALANCED';

export interface SegmentAllocation {
  readonly segment: SegmentKey;
  readonly before: number;
  readonly after: number;
  /** What the rule gives it of this type's pool. */
  readonly target: number;
  /** Whether its minimum raised the target above what its percentage gives. */
  readonly minimumApplied: boolean;
  /** What its committed floor kept or gave it (ONHAND only; 0 for the other types). */
  readonly floor: number;
  readonly outcome: AllocationOutcome;
}

export interface SupplyMove {
  readonly supplyType: SupplyType;
  readonly from: SegmentKey;
  readonly to: SegmentKey;
  readonly quantity: number;
}

export interface SupplyTypeRebalance {
  readonly supplyType: SupplyType;
  /** The summed quantity of the type over the participants, before and after alike. */
  readonly pool: number;
  /** Participants in the order the walk took them (the pool last unless the rule places it). */
  readonly segments: readonly SegmentAllocation[];
  readonly moves: readonly SupplyMove[];
}

export interface LoanRepayment {
  readonly segment: SegmentKey;
  readonly before: number;
  readonly after: number;
}

export interface RebalanceResult {
  /** Whether a demand-weighted rule used the demand in its window or, with none, the rule's percentages. */
  readonly sharesFrom: 'RULE' | 'DEMAND';
  /** Each supply type any participant holds, in SUPPLY_TYPES order. */
  readonly types: readonly SupplyTypeRebalance[];
  /** Every type's moves. */
  readonly moves: readonly SupplyMove[];
  /** Loans of the segments that had one, after the ONHAND moves. */
  readonly loans: readonly LoanRepayment[];
}

/** A participant in the walk: its share as a fraction weight / of, and its minimum. */
interface Participant {
  readonly segment: SegmentKey;
  readonly weight: number;
  readonly of: number;
  readonly minimum: number;
  readonly position: SegmentPosition;
}

const segmentId = (s: SegmentKey): string => JSON.stringify([s.segmentType, s.segment]);

/** Rebalances one item-node under one rule. Deterministic: the same input gives the same result. */
export function rebalance(input: RebalanceInput): RebalanceResult {
  const { participants, sharesFrom } = walkOrder(input);
  const types = SUPPLY_TYPES.filter((t) => participants.some((p) => (p.position.supply[t] ?? 0) !== 0)).map((t) =>
    rebalanceType(input.rule, participants, t),
  );
  const onhand = types.find((t) => t.supplyType === 'ONHAND');
  const loans = participants
    .filter((p) => p.position.loan > 0)
    .map((p): LoanRepayment => {
      const after = onhand?.segments.find((s) => segmentId(s.segment) === segmentId(p.segment))?.after ?? 0;
      const owed = Math.max(0, p.position.commitments - after);
      return { segment: p.segment, before: p.position.loan, after: Math.min(p.position.loan, owed) };
    });
  return { sharesFrom, types, moves: types.flatMap((t) => t.moves), loans };
}

/**
 * The segments a rule walks for these positions, in its walk order, the pool where the rule places it (else
 * last): the priority a physical total takes from in reverse.
 */
export function walkedSegments(input: RebalanceInput): SegmentKey[] {
  return walkOrder(input).participants.map((p) => p.segment);
}

/** The participants in walk order, with their shares. */
function walkOrder(input: RebalanceInput): { participants: Participant[]; sharesFrom: 'RULE' | 'DEMAND' } {
  const byId = new Map<string, SegmentPosition>();
  for (const p of input.positions) {
    if (byId.has(segmentId(p.segment))) throw new Error(`two positions for segment ${segmentId(p.segment)}`);
    byId.set(segmentId(p.segment), p);
  }
  const positionOf = (segment: SegmentKey): SegmentPosition =>
    byId.get(segmentId(segment)) ?? { segment, supply: {}, commitments: 0, loan: 0, demandInWindow: 0 };
  const strategy = input.rule.strategy;
  const shares: Array<SegmentShare & { margin?: number }> = [...strategy.segments];
  const fromRule = (s: SegmentShare): Participant => ({
    segment: s.segment,
    weight: s.basisPoints,
    of: BASIS_POINTS,
    minimum: s.minimum,
    position: positionOf(s.segment),
  });
  let participants: Participant[];
  let sharesFrom: 'RULE' | 'DEMAND' = 'RULE';
  if (strategy.kind === 'PROFITABILITY_RANKED') {
    participants = stableSortBy(strategy.segments, (s: RankedShare) => -s.margin).map(fromRule);
  } else if (strategy.kind === 'DEMAND_WEIGHTED') {
    const total = shares.reduce((sum, s) => sum + Math.max(0, positionOf(s.segment).demandInWindow), 0);
    if (total === 0) participants = shares.map(fromRule);
    else {
      sharesFrom = 'DEMAND';
      const demandOf = (s: SegmentShare) => Math.max(0, positionOf(s.segment).demandInWindow);
      participants = stableSortBy(shares, (s) => -demandOf(s)).map((s) => ({
        ...fromRule(s),
        weight: demandOf(s),
        of: total,
      }));
    }
  } else participants = shares.map(fromRule);
  if (!participants.some((p) => isUnsegmented(p.segment))) {
    participants.push({ segment: UNSEGMENTED, weight: 0, of: 1, minimum: 0, position: positionOf(UNSEGMENTED) });
  }
  return { participants, sharesFrom };
}

function rebalanceType(rule: AllocationRule, participants: Participant[], supplyType: SupplyType): SupplyTypeRebalance {
  const before = participants.map((p) => p.position.supply[supplyType] ?? 0);
  const pool = sum(before);
  if (before.some((q) => q < 0)) {
    const segments = participants.map((p, i): SegmentAllocation => {
      const q = before[i]!;
      return {
        segment: p.segment,
        before: q,
        after: q,
        target: q,
        minimumApplied: false,
        floor: 0,
        outcome: 'NOT_REBALANCED',
      };
    });
    return { supplyType, pool, segments, moves: [] };
  }
  const commitments = participants.map((p) => (supplyType === 'ONHAND' ? Math.max(0, p.position.commitments) : 0));
  const floors = committedFloors(pool, before, commitments);
  const walk = rule.strategy.kind === 'PROFITABILITY_RANKED' ? profitabilityWalk : shareWalk;
  const split = walk(pool, participants, floors);
  // What each would have had if nobody's commitments came first: to tell whose floors held it back.
  const plain = walk(
    pool,
    participants,
    participants.map(() => 0),
  ).after;
  const poolIndex = participants.findIndex((p) => isUnsegmented(p.segment));
  const segments = participants.map((p, i): SegmentAllocation => {
    const after = split.after[i]!;
    const target = split.target[i]!;
    return {
      segment: p.segment,
      before: before[i]!,
      after,
      target,
      minimumApplied: split.minimumApplied[i]!,
      floor: floors[i]!,
      outcome: outcomeOf(after, target, i === poolIndex && split.leftover > 0, after < plain[i]!),
    };
  });
  return { supplyType, pool, segments, moves: movesOf(supplyType, segments) };
}

function outcomeOf(after: number, target: number, gotLeftover: boolean, heldByFloors: boolean): AllocationOutcome {
  if (after === target) return 'TARGET';
  if (after > target) return gotLeftover ? 'LEFTOVER' : 'OWN_COMMITMENTS';
  return heldByFloors ? 'OTHERS_COMMITMENTS' : 'NOTHING_LEFT';
}

/**
 * Each participant's committed floor: what it holds up to its commitments, plus, in walk order, what its
 * commitments exceed that by, out of the units nobody has committed.
 */
function committedFloors(pool: number, before: number[], commitments: number[]): number[] {
  const keep = before.map((q, i) => Math.min(q, commitments[i]!));
  let free = pool - sum(keep);
  return keep.map((k, i) => {
    const cover = Math.min(commitments[i]! - k, free);
    free -= cover;
    return k + cover;
  });
}

interface Split {
  readonly after: number[];
  readonly target: number[];
  readonly minimumApplied: boolean[];
  /** Units the walk left, given to the pool. */
  readonly leftover: number;
}

/**
 * DESIGN's walk, for fixed and demand-weighted rules: in order, target = max(floor(share x pool), minimum);
 * each gets up to its target out of what the floors left, and never less than its floor. What is left goes
 * to the unsegmented pool.
 */
function shareWalk(pool: number, participants: Participant[], floors: number[]): Split {
  let remaining = pool - sum(floors);
  const byShare = participants.map((p) => portionOf(pool, p.weight, p.of));
  const target = participants.map((p, i) => Math.max(byShare[i]!, p.minimum));
  const after = participants.map((_, i) => {
    const extra = Math.min(Math.max(0, target[i]! - floors[i]!), remaining);
    remaining -= extra;
    return floors[i]! + extra;
  });
  return withLeftover(
    participants,
    { after, target, minimumApplied: target.map((t, i) => t > byShare[i]!) },
    remaining,
  );
}

/**
 * The profitability-ranked walk, in margin order: each gets its committed floor, then up to its minimum; what is
 * left then is split by the rule's percentages in the same order; the rounding remainder goes to the pool.
 */
function profitabilityWalk(pool: number, participants: Participant[], floors: number[]): Split {
  let remaining = pool - sum(floors);
  const upToMinimum = participants.map((p, i) => {
    const extra = Math.min(Math.max(0, p.minimum - floors[i]!), remaining);
    remaining -= extra;
    return floors[i]! + extra;
  });
  const rest = remaining;
  const byShare = participants.map((p) => portionOf(rest, p.weight, p.of));
  remaining -= sum(byShare);
  const after = upToMinimum.map((q, i) => q + byShare[i]!);
  const target = participants.map((p, i) => Math.max(floors[i]!, p.minimum) + byShare[i]!);
  const minimumApplied = participants.map((p, i) => p.minimum > floors[i]!);
  return withLeftover(participants, { after, target, minimumApplied }, remaining);
}

function withLeftover(participants: Participant[], split: Omit<Split, 'leftover'>, leftover: number): Split {
  const poolIndex = participants.findIndex((p) => isUnsegmented(p.segment));
  const after = split.after.map((q, i) => (i === poolIndex ? q + leftover : q));
  return { ...split, after, leftover };
}

/** Moves that take each participant from before to after: givers and takers paired in walk order. */
function movesOf(supplyType: SupplyType, segments: readonly SegmentAllocation[]): SupplyMove[] {
  const givers = segments.filter((s) => s.after < s.before).map((s) => ({ s, left: s.before - s.after }));
  const takers = segments.filter((s) => s.after > s.before).map((s) => ({ s, left: s.after - s.before }));
  const moves: SupplyMove[] = [];
  let g = 0;
  for (const t of takers) {
    while (t.left > 0) {
      const giver = givers[g]!;
      const quantity = Math.min(giver.left, t.left);
      moves.push({ supplyType, from: giver.s.segment, to: t.s.segment, quantity });
      giver.left -= quantity;
      t.left -= quantity;
      if (giver.left === 0) g++;
    }
  }
  return moves;
}

/** floor(quantity x weight / of), exact for any quantities (the product may pass 2^53). */
export function portionOf(quantity: number, weight: number, of: number): number {
  return Number((BigInt(quantity) * BigInt(weight)) / BigInt(of));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function stableSortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, k: key(item) }))
    .sort((a, b) => a.k - b.k || a.index - b.index)
    .map((x) => x.item);
}
