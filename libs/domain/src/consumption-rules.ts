import { mayBorrowNow, PPM, type ConsumptionRules, type SegmentBorrowing } from './borrowing';
import { InvalidArgumentError } from './errors';
import { isUnsegmented, type SegmentKey } from './keys';
import { Violations } from './validation';

/**
 * Most segment rules one version may carry. A version is stored as one JSON text (at most 64 KiB on MySQL);
 * a rule with the longest segment names in 3-byte characters takes about 430 bytes of it.
 */
export const MAX_CONSUMPTION_RULES = 100;

/** One segment's rule as a caller sent it: an unset limit is `undefined`. */
export interface SegmentConsumptionRuleInput {
  readonly segment: SegmentKey;
  readonly mayBorrow: boolean;
  readonly capQuantity: number | undefined;
  /** A share of the pool's counted supply, 0..1. */
  readonly capRatio: number | undefined;
  readonly keepInPool: number | undefined;
}

export interface SetConsumptionRulesInput {
  readonly requestId: string;
  readonly borrowingEnabled: boolean;
  readonly segments: readonly SegmentConsumptionRuleInput[];
}

/** A checked SetConsumptionRules: the whole rule set the next version holds. */
export interface SetConsumptionRulesCommand {
  readonly requestId: string;
  readonly rules: Omit<ConsumptionRules, 'version'>;
}

/** A share 0..1 in millionths, to 6 decimal places. */
export function ratioToPpm(ratio: number): number {
  return Math.round(ratio * PPM);
}

export function parseSetConsumptionRules(input: SetConsumptionRulesInput): SetConsumptionRulesCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  if (input.segments.length > MAX_CONSUMPTION_RULES) {
    v.add('segments', `must list at most ${MAX_CONSUMPTION_RULES} rules, not ${input.segments.length}`);
  }
  const firstIndex = new Map<string, number>();
  input.segments.forEach((rule, i) => {
    const field = `segments[${i}]`;
    segmentOfRule(v, `${field}.segment`, rule.segment);
    const id = JSON.stringify([rule.segment.segmentType, rule.segment.segment]);
    const first = firstIndex.get(id);
    if (first !== undefined) v.add(`${field}.segment`, `names the segment of segments[${first}] again`);
    else firstIndex.set(id, i);
    if (rule.capQuantity !== undefined) v.quantity(`${field}.cap_quantity`, rule.capQuantity, 0);
    if (rule.keepInPool !== undefined) v.quantity(`${field}.keep_in_pool`, rule.keepInPool, 0);
    if (rule.capRatio !== undefined && !(Number.isFinite(rule.capRatio) && rule.capRatio >= 0 && rule.capRatio <= 1)) {
      v.add(`${field}.cap_ratio`, 'must be a number from 0 to 1');
    }
  });
  v.throwIfAny();
  return {
    requestId: input.requestId,
    rules: { borrowingEnabled: input.borrowingEnabled, segments: input.segments.map(borrowingOfRule) },
  };
}

/** A rule's segment names a segment (a whole key, checked by Violations.segment), not the pool. */
function segmentOfRule(v: Violations, field: string, segment: SegmentKey): void {
  v.segment(field, segment);
  if (isUnsegmented(segment)) v.add(field, 'must name a segment: the unsegmented pool lends, it does not borrow');
}

function borrowingOfRule(rule: SegmentConsumptionRuleInput): SegmentBorrowing {
  return {
    segment: { segmentType: rule.segment.segmentType, segment: rule.segment.segment },
    mayBorrow: rule.mayBorrow,
    capQuantity: rule.capQuantity ?? null,
    capRatioPpm: rule.capRatio === undefined ? null : ratioToPpm(rule.capRatio),
    keepInPool: rule.keepInPool ?? null,
  };
}

/** A version to look up: 0 for the one in force. */
export function parseRulesVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new InvalidArgumentError([{ field: 'version', description: 'must be a whole number, 0 or more' }]);
  }
  return version;
}

/**
 * The segments that may take new loans under `next` but could not under `before`: their loans must be
 * settled when `next` comes into force, since until then nothing counted their shortfall as a loan.
 */
export function newBorrowers(before: ConsumptionRules, next: ConsumptionRules): SegmentKey[] {
  return next.segments
    .filter((s) => mayBorrowNow(next, s.segment) && !mayBorrowNow(before, s.segment))
    .map((s) => s.segment);
}
