import { rebalance, type SegmentPosition } from './allocation-engine';
import type { AllocationRule, AllocationStrategy, RankedShare, SegmentShare } from './allocation-plans';
import { UNSEGMENTED, type SegmentKey } from './keys';
import type { SupplyType } from './supply';

const S1 = { segmentType: 'CHANNEL', segment: 'S1' };
const S2 = { segmentType: 'CHANNEL', segment: 'S2' };
const S3 = { segmentType: 'CHANNEL', segment: 'S3' };
const U = UNSEGMENTED;

const pct = (segment: SegmentKey, percent: number, minimum = 0): SegmentShare => ({
  segment,
  basisPoints: percent * 100,
  minimum,
});
const ruleOf = (strategy: AllocationStrategy): AllocationRule => ({
  ruleId: 'r',
  rank: 1,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: null, effectiveFromMs: null, effectiveToMs: null },
  strategy,
});
const fixed = (...segments: SegmentShare[]) => ruleOf({ kind: 'FIXED', segments });
const at = (segment: SegmentKey, onhand: number, over: Partial<SegmentPosition> = {}): SegmentPosition => ({
  segment,
  supply: { ONHAND: onhand },
  commitments: 0,
  loan: 0,
  demandInWindow: 0,
  ...over,
});

/** Each segment's quantity of a type after the rebalance, by segment name ('' for the pool). */
function after(result: ReturnType<typeof rebalance>, type: SupplyType = 'ONHAND'): Record<string, number> {
  const t = result.types.find((x) => x.supplyType === type)!;
  return Object.fromEntries(t.segments.map((s) => [s.segment.segment, s.after]));
}
function outcomes(result: ReturnType<typeof rebalance>, type: SupplyType = 'ONHAND'): Record<string, string> {
  const t = result.types.find((x) => x.supplyType === type)!;
  return Object.fromEntries(t.segments.map((s) => [s.segment.segment, s.outcome]));
}

const DESIGN_RULE = fixed(pct(S1, 40, 100), pct(U, 10), pct(S2, 20, 300), pct(S3, 30));

describe('rebalance under a fixed rule', () => {
  it("does DESIGN's worked example exactly", () => {
    const result = rebalance({
      rule: DESIGN_RULE,
      positions: [at(U, 700), at(S1, 200), at(S2, 100), at(S3, 0)],
    });
    expect(after(result)).toEqual({ S1: 400, '': 100, S2: 300, S3: 200 });
    const onhand = result.types[0]!;
    expect(onhand.pool).toBe(1000);
    expect(onhand.segments.map((s) => [s.segment.segment, s.target, s.minimumApplied, s.outcome])).toEqual([
      ['S1', 400, false, 'TARGET'],
      ['', 100, false, 'TARGET'],
      ['S2', 300, true, 'TARGET'],
      ['S3', 300, false, 'NOTHING_LEFT'],
    ]);
    expect(result.moves).toEqual([
      { supplyType: 'ONHAND', from: U, to: S1, quantity: 200 },
      { supplyType: 'ONHAND', from: U, to: S2, quantity: 200 },
      { supplyType: 'ONHAND', from: U, to: S3, quantity: 200 },
    ]);
  });

  it('gives a segment its minimum with 0 %', () => {
    const result = rebalance({ rule: fixed(pct(S1, 0, 50), pct(U, 100)), positions: [at(U, 200)] });
    expect(after(result)).toEqual({ S1: 50, '': 150 });
    expect(result.types[0]!.segments[0]).toMatchObject({ target: 50, minimumApplied: true, outcome: 'TARGET' });
  });

  it('gives the rounding remainder to the unsegmented pool, even when the rule does not name it', () => {
    const third = (segment: SegmentKey, basisPoints: number) => ({ segment, basisPoints, minimum: 0 });
    const rule = ruleOf({ kind: 'FIXED', segments: [third(S1, 3333), third(S2, 3333), third(S3, 3334)] });
    const result = rebalance({ rule, positions: [at(S1, 10)] });
    expect(after(result)).toEqual({ S1: 3, S2: 3, S3: 3, '': 1 });
    expect(outcomes(result)['']).toBe('LEFTOVER');
  });

  it("holds a rebalance back by a segment's committed floor; the walk continues with what is left", () => {
    const result = rebalance({
      rule: DESIGN_RULE,
      positions: [at(U, 450), at(S1, 200), at(S2, 100), at(S3, 250, { commitments: 250 })],
    });
    // S3 keeps the 250 its orders and holds need although its 30 % is 300 and it comes last; S2 gets what is
    // left after S1, the pool and that floor: 250 of its 300.
    expect(after(result)).toEqual({ S1: 400, '': 100, S2: 250, S3: 250 });
    expect(outcomes(result)).toEqual({ S1: 'TARGET', '': 'TARGET', S2: 'OTHERS_COMMITMENTS', S3: 'NOTHING_LEFT' });
  });

  it('never takes a segment below its commitments even when the rule gives it less', () => {
    const result = rebalance({
      rule: fixed(pct(S1, 10), pct(U, 90)),
      positions: [at(U, 0), at(S1, 100, { commitments: 60 })],
    });
    expect(after(result)).toEqual({ S1: 60, '': 40 });
    expect(result.types[0]!.segments[0]).toMatchObject({ target: 10, floor: 60, outcome: 'OWN_COMMITMENTS' });
  });

  it("repays a borrowing segment's loan first: its own supply grows to cover its commitments", () => {
    const result = rebalance({
      rule: fixed(pct(S1, 5), pct(U, 95)),
      positions: [at(U, 100), at(S1, 2, { commitments: 10, loan: 8 })],
    });
    expect(after(result)).toEqual({ S1: 10, '': 92 });
    expect(result.loans).toEqual([{ segment: S1, before: 8, after: 0 }]);
    expect(result.moves).toEqual([{ supplyType: 'ONHAND', from: U, to: S1, quantity: 8 }]);
  });

  it('repays what the pool can of a loan when it cannot cover it all, and keeps what the pool has committed', () => {
    const result = rebalance({
      rule: fixed(pct(S1, 50), pct(U, 50)),
      positions: [at(U, 7, { commitments: 2 }), at(S1, 2, { commitments: 10, loan: 8 })],
    });
    expect(after(result)).toEqual({ S1: 7, '': 2 });
    expect(result.loans).toEqual([{ segment: S1, before: 8, after: 3 }]);
  });

  it('splits each supply type as its own pool; commitments hold back only ONHAND', () => {
    const positions = [
      at(U, 0, { supply: { ONHAND: 0, INTRANSIT: 100 } }),
      at(S1, 0, { supply: { ONHAND: 50, INTRANSIT: 0 }, commitments: 50 }),
    ];
    const result = rebalance({ rule: fixed(pct(S1, 20), pct(U, 80)), positions });
    expect(result.types.map((t) => t.supplyType)).toEqual(['ONHAND', 'INTRANSIT']);
    expect(after(result, 'ONHAND')).toEqual({ S1: 50, '': 0 });
    expect(after(result, 'INTRANSIT')).toEqual({ S1: 20, '': 80 });
  });

  it('leaves a supply type with a position below zero as it is', () => {
    const result = rebalance({ rule: fixed(pct(S1, 50), pct(U, 50)), positions: [at(U, 10), at(S1, -2)] });
    expect(after(result)).toEqual({ S1: -2, '': 10 });
    expect(outcomes(result)).toEqual({ S1: 'NOT_REBALANCED', '': 'NOT_REBALANCED' });
    expect(result.moves).toEqual([]);
  });
});

describe('rebalance under a demand-weighted rule', () => {
  const rule = ruleOf({
    kind: 'DEMAND_WEIGHTED',
    windowMs: 7 * 86_400_000,
    segments: [pct(S2, 20, 40), pct(S1, 30), pct(U, 50)],
  });

  it("splits by each segment's share of the demand in the window, highest demand first, minimums still applying", () => {
    const result = rebalance({
      rule,
      positions: [at(U, 100), at(S1, 0, { demandInWindow: 30 }), at(S2, 0, { demandInWindow: 10 })],
    });
    expect(result.sharesFrom).toBe('DEMAND');
    // S1 has 3/4 of the demand: 75; S2 comes next with 1/4 (25) raised to its minimum of 40, but 25 is left.
    expect(after(result)).toEqual({ S1: 75, S2: 25, '': 0 });
    expect(result.types[0]!.segments.map((s) => [s.segment.segment, s.target, s.outcome])).toEqual([
      ['S1', 75, 'TARGET'],
      ['S2', 40, 'NOTHING_LEFT'],
      ['', 0, 'TARGET'],
    ]);
  });

  it("falls back to the rule's percentages and order with no demand in the window", () => {
    const result = rebalance({ rule, positions: [at(U, 100), at(S1, 0), at(S2, 0)] });
    expect(result.sharesFrom).toBe('RULE');
    expect(after(result)).toEqual({ S2: 40, S1: 30, '': 30 });
  });
});

describe('rebalance under a profitability-ranked rule', () => {
  const ranked = (segment: SegmentKey, percent: number, margin: number, minimum = 0): RankedShare => ({
    ...pct(segment, percent, minimum),
    margin,
  });
  const rule = ruleOf({
    kind: 'PROFITABILITY_RANKED',
    segments: [ranked(S1, 50, 1, 10), ranked(S2, 50, 5, 30), ranked(U, 0, 0)],
  });

  it('serves commitments first, then minimums, then splits what is left by percentage, highest margin first', () => {
    const result = rebalance({ rule, positions: [at(U, 100), at(S1, 0, { commitments: 20, loan: 20 }), at(S2, 5)] });
    // 105 units: S1's commitments take 20, S2's minimum 30; the 55 left split 27 / 27, 1 to the pool.
    expect(after(result)).toEqual({ S2: 57, S1: 47, '': 1 });
    expect(result.types[0]!.segments.map((s) => s.segment.segment)).toEqual(['S2', 'S1', '']);
    expect(result.loans).toEqual([{ segment: S1, before: 20, after: 0 }]);
  });

  it('gives the scarce stock to commitments before the better margin gets its minimum', () => {
    const result = rebalance({ rule, positions: [at(U, 25), at(S1, 0, { commitments: 20 }), at(S2, 0)] });
    expect(after(result)).toEqual({ S2: 5, S1: 20, '': 0 });
    expect(outcomes(result)).toMatchObject({ S2: 'OTHERS_COMMITMENTS' });
  });
});
