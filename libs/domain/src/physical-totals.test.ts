import { rebalance, walkedSegments, type SegmentPosition } from './allocation-engine';
import type { AllocationRule, SegmentShare } from './allocation-plans';
import { UNSEGMENTED, type SegmentKey } from './keys';
import { reductionOrder, splitPhysicalTotal, type PhysicalTotalSegment, type PlanWalk } from './physical-totals';

const channel = (segment: string): SegmentKey => ({ segmentType: 'CHANNEL', segment });
const region = (segment: string): SegmentKey => ({ segmentType: 'REGION', segment });
const [S1, S2, S3] = [channel('S1'), channel('S2'), channel('S3')];

const pct = (segment: SegmentKey, percent: number, minimum = 0): SegmentShare => ({
  segment,
  basisPoints: percent * 100,
  minimum,
});
/** DESIGN's worked example: Segment1 40% min 100, Unsegmented 10%, Segment2 20% min 300, Segment3 30%. */
const designRule: AllocationRule = {
  ruleId: 'design',
  rank: 1,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: null, effectiveFromMs: null, effectiveToMs: null },
  strategy: { kind: 'FIXED', segments: [pct(S1, 40, 100), pct(UNSEGMENTED, 10), pct(S2, 20, 300), pct(S3, 30)] },
};
const designWalk: PlanWalk = {
  segmentType: 'CHANNEL',
  segments: walkedSegments({ rule: designRule, positions: [] }),
};
const row = (segment: SegmentKey, quantity: number, commitments = 0): PhysicalTotalSegment => ({
  segment,
  quantity,
  commitments,
});
const names = (segments: ReadonlyArray<{ segment: SegmentKey }>) =>
  segments.map((s) => `${s.segment.segmentType}/${s.segment.segment}`);

describe('splitPhysicalTotal', () => {
  it("sets the pool to what the segments do not hold; then DESIGN's walk allocates the total", () => {
    const segments = [row(S1, 200), row(S2, 100)];
    const split = splitPhysicalTotal({ supplyType: 'ONHAND', total: 1000, segments, walks: [designWalk] });
    expect(split).toEqual({ pool: 700, reductions: [], unresolved: 0 });
    // DESIGN's example starts from exactly this: unsegmented 700, S1 200, S2 100, S3 0.
    const positions: SegmentPosition[] = [row(UNSEGMENTED, split.pool), ...segments].map((s) => ({
      segment: s.segment,
      supply: { ONHAND: s.quantity },
      commitments: 0,
      loan: 0,
      demandInWindow: 0,
    }));
    const onhand = rebalance({ rule: designRule, positions }).types[0]!;
    expect(onhand.segments.map((s) => [s.segment.segment, s.after])).toEqual([
      ['S1', 400],
      ['', 100],
      ['S2', 300],
      ['S3', 200],
    ]);
  });

  it('a total equal to the segments sum leaves the pool empty and the segments as they are', () => {
    expect(
      splitPhysicalTotal({ supplyType: 'ONHAND', total: 300, segments: [row(S1, 200), row(S2, 100)], walks: [] }),
    ).toEqual({ pool: 0, reductions: [], unresolved: 0 });
  });

  it('below the segments sum: the pool goes to zero, then the lowest priority segment gives first', () => {
    // S3 is last in the walk, so it gives first; then S2; S1 (first in the walk) keeps everything.
    const split = splitPhysicalTotal({
      supplyType: 'ONHAND',
      total: 450,
      segments: [row(S1, 400), row(S2, 300), row(S3, 200)],
      walks: [designWalk],
    });
    expect(split).toEqual({
      pool: 0,
      reductions: [
        { segment: S3, before: 200, after: 0 },
        { segment: S2, before: 300, after: 50 },
      ],
      unresolved: 0,
    });
  });

  it('never takes a segment below its commitments on ONHAND; what they keep over the total is unresolved', () => {
    const split = splitPhysicalTotal({
      supplyType: 'ONHAND',
      total: 100,
      segments: [row(S1, 400, 120), row(S2, 300, 250), row(S3, 200, 10)],
      walks: [designWalk],
    });
    expect(split).toEqual({
      pool: 0,
      reductions: [
        { segment: S3, before: 200, after: 10 },
        { segment: S2, before: 300, after: 250 },
        { segment: S1, before: 400, after: 120 },
      ],
      unresolved: 280,
    });
  });

  it('a segment already below its commitments gives nothing; the others make up the total', () => {
    const split = splitPhysicalTotal({
      supplyType: 'ONHAND',
      total: 30,
      segments: [row(S1, 50), row(S3, 5, 20)],
      walks: [designWalk],
    });
    expect(split).toEqual({ pool: 0, reductions: [{ segment: S1, before: 50, after: 25 }], unresolved: 0 });
  });

  it('commitments do not hold supply of the other types, which counts only from its ETA', () => {
    const split = splitPhysicalTotal({
      supplyType: 'INTRANSIT',
      total: 0,
      segments: [row(S1, 40, 100), row(S2, 10, 100)],
      walks: [designWalk],
    });
    expect(split.reductions.map((r) => r.after)).toEqual([0, 0]);
    expect(split.unresolved).toBe(0);
  });
});

describe('reductionOrder', () => {
  it('takes segments no rule names first (reverse key order), then rules in reverse walk, plans reversed', () => {
    const regionWalk: PlanWalk = { segmentType: 'REGION', segments: [region('NORTH'), UNSEGMENTED, region('SOUTH')] };
    const segments = [
      row(S1, 1),
      row(channel('OUTLET'), 1),
      row(region('SOUTH'), 1),
      row(S3, 1),
      row(region('NORTH'), 1),
      row(channel('B2B'), 1),
      row({ segmentType: 'BRAND', segment: 'X' }, 1),
    ];
    // Plans in reverse segment type order: REGION's segments give before CHANNEL's, whatever order they come in.
    expect(names(reductionOrder(segments, [regionWalk, designWalk]))).toEqual([
      'CHANNEL/OUTLET',
      'CHANNEL/B2B',
      'BRAND/X',
      'REGION/SOUTH',
      'REGION/NORTH',
      'CHANNEL/S3',
      'CHANNEL/S1',
    ]);
  });

  it('with no applying rule, every segment is taken in reverse key order', () => {
    expect(names(reductionOrder([row(S1, 1), row(S3, 1), row(S2, 1)], []))).toEqual([
      'CHANNEL/S3',
      'CHANNEL/S2',
      'CHANNEL/S1',
    ]);
  });
});
