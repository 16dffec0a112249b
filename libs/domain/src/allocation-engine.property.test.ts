import fc from 'fast-check';
import { rebalance, type RebalanceInput, type SegmentPosition } from './allocation-engine';
import { BASIS_POINTS, type AllocationRule, type AllocationStrategy } from './allocation-plans';
import { isUnsegmented, UNSEGMENTED, type SegmentKey } from './keys';
import type { SupplyType } from './supply';

const TYPES: SupplyType[] = ['ONHAND', 'INTRANSIT'];
const NAMED: SegmentKey[] = ['A', 'B', 'C', 'D'].map((segment) => ({ segmentType: 'CHANNEL', segment }));

/** Basis points for n segments that sum to 100 %: cuts of [0, 10000]. */
const basisPoints = (n: number) =>
  fc.array(fc.integer({ min: 0, max: BASIS_POINTS }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const edges = [0, ...cuts.sort((a, b) => a - b), BASIS_POINTS];
    return edges.slice(1).map((e, i) => e - edges[i]!);
  });

const position = (segment: SegmentKey) =>
  fc.record({
    segment: fc.constant(segment),
    supply: fc.record({ ONHAND: fc.nat(300), INTRANSIT: fc.nat(300) }),
    commitments: fc.oneof(fc.constant(0), fc.nat(200)),
    loan: fc.constant(0),
    demandInWindow: fc.oneof(fc.constant(0), fc.nat(50)),
  });

/** A rule over 1-4 named segments, with or without the pool, of any strategy; and every participant's stock. */
const rebalanceInput: fc.Arbitrary<RebalanceInput> = fc
  .record({ named: fc.integer({ min: 1, max: 4 }), withPool: fc.boolean(), kind: fc.constantFrom('F', 'D', 'P') })
  .chain(({ named, withPool, kind }) => {
    const segments = [...NAMED.slice(0, named), ...(withPool ? [UNSEGMENTED] : [])];
    return fc
      .record({
        shares: basisPoints(segments.length),
        minimums: fc.array(fc.oneof(fc.constant(0), fc.nat(150)), {
          minLength: segments.length,
          maxLength: segments.length,
        }),
        margins: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: segments.length, maxLength: segments.length }),
        positions: fc.tuple(...[...segments, ...(withPool ? [] : [UNSEGMENTED])].map(position)),
      })
      .map(({ shares, minimums, margins, positions }): RebalanceInput => {
        const share = segments.map((segment, i) => ({ segment, basisPoints: shares[i]!, minimum: minimums[i]! }));
        const strategy: AllocationStrategy =
          kind === 'F'
            ? { kind: 'FIXED', segments: share }
            : kind === 'D'
              ? { kind: 'DEMAND_WEIGHTED', windowMs: 1000, segments: share }
              : { kind: 'PROFITABILITY_RANKED', segments: share.map((s, i) => ({ ...s, margin: margins[i]! })) };
        const rule: AllocationRule = {
          ruleId: 'r',
          rank: 1,
          conditions: { itemIds: [], nodeIds: ['N'], productClass: null, effectiveFromMs: null, effectiveToMs: null },
          strategy,
        };
        const withLoans = positions.map((p): SegmentPosition => ({
          ...p,
          loan: isUnsegmented(p.segment) ? 0 : Math.max(0, p.commitments - p.supply.ONHAND),
        }));
        return { rule, positions: withLoans };
      });
  });

const key = (s: SegmentKey) => `${s.segmentType}/${s.segment}`;

describe('rebalance, on random rules and stock', () => {
  it('conserves every supply type exactly, in whole units, and its moves take each segment from before to after', () => {
    fc.assert(
      fc.property(rebalanceInput, (input) => {
        const result = rebalance(input);
        for (const type of TYPES) {
          const before = input.positions.reduce((sum, p) => sum + (p.supply[type] ?? 0), 0);
          const t = result.types.find((x) => x.supplyType === type);
          if (!t) {
            expect(before).toBe(0);
            continue;
          }
          expect(t.segments.reduce((sum, s) => sum + s.after, 0)).toBe(before);
          const moved = new Map(t.segments.map((s) => [key(s.segment), s.before]));
          for (const m of t.moves) {
            expect(m.quantity).toBeGreaterThan(0);
            expect(Number.isInteger(m.quantity)).toBe(true);
            moved.set(key(m.from), moved.get(key(m.from))! - m.quantity);
            moved.set(key(m.to), moved.get(key(m.to))! + m.quantity);
          }
          for (const s of t.segments) {
            expect(Number.isInteger(s.after) && s.after >= 0).toBe(true);
            expect(moved.get(key(s.segment))).toBe(s.after);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('leaves no segment below its commitments in ONHAND when the pool allows, and never takes committed stock', () => {
    fc.assert(
      fc.property(rebalanceInput, (input) => {
        const onhand = rebalance(input).types.find((t) => t.supplyType === 'ONHAND');
        if (!onhand) return;
        const committed = new Map(input.positions.map((p) => [key(p.segment), p.commitments]));
        const allCovered = [...committed.values()].reduce((a, b) => a + b, 0) <= onhand.pool;
        for (const s of onhand.segments) {
          const c = committed.get(key(s.segment)) ?? 0;
          expect(s.after).toBeGreaterThanOrEqual(Math.min(s.before, c));
          if (allCovered) expect(s.after).toBeGreaterThanOrEqual(c);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same answer for the same input, whatever order the positions come in', () => {
    const withShuffled = rebalanceInput.chain((input) =>
      fc.tuple(
        fc.constant(input),
        fc.shuffledSubarray([...input.positions], {
          minLength: input.positions.length,
          maxLength: input.positions.length,
        }),
      ),
    );
    fc.assert(
      fc.property(withShuffled, ([input, shuffled]) => {
        expect(rebalance({ ...input, positions: shuffled })).toEqual(rebalance(input));
      }),
      { numRuns: 300 },
    );
  });

  it("does DESIGN's walk when nothing is committed: max(floor(pct x pool), minimum) in order, the rest to the pool", () => {
    fc.assert(
      fc.property(rebalanceInput, (input) => {
        fc.pre(input.rule.strategy.kind === 'FIXED');
        const positions = input.positions.map((p) => ({ ...p, commitments: 0, loan: 0 }));
        const result = rebalance({ ...input, positions });
        for (const t of result.types) {
          let remaining = t.pool;
          const expected = new Map<string, number>([[key(UNSEGMENTED), 0]]);
          for (const s of input.rule.strategy.segments) {
            const target = Math.max(Math.floor((s.basisPoints * t.pool) / BASIS_POINTS), s.minimum);
            const granted = Math.min(target, remaining);
            remaining -= granted;
            expected.set(key(s.segment), granted);
          }
          expected.set(key(UNSEGMENTED), expected.get(key(UNSEGMENTED))! + remaining);
          expect(new Map(t.segments.map((s) => [key(s.segment), s.after]))).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
