import {
  parsePlan,
  type AllocationPlanInput,
  type AllocationRuleInput,
  type SegmentShareInput,
} from './allocation-plan-parsing';
import { InvalidArgumentError } from './errors';
import { UNSEGMENTED, type SegmentKey } from './keys';

const ch = (segment: string, segmentType = 'CHANNEL'): SegmentKey => ({ segmentType, segment });
const JAN = Date.parse('2026-01-01T00:00:00Z');
const share = (segment: SegmentKey, basisPoints: number, over: Partial<SegmentShareInput> = {}): SegmentShareInput => ({
  segment,
  basisPoints,
  minimum: undefined,
  margin: undefined,
  ...over,
});
const rule = (over: Partial<AllocationRuleInput> = {}): AllocationRuleInput => ({
  ruleId: 'r1',
  rank: 1,
  conditions: {
    itemIds: [],
    nodeIds: ['DC1'],
    productClass: undefined,
    effectiveFromMs: undefined,
    effectiveToMs: undefined,
  },
  strategy: 'FIXED',
  windowMs: undefined,
  segments: [share(ch('WEB'), 6000), share(UNSEGMENTED, 4000)],
  ...over,
});
const planOf = (rules: AllocationRuleInput[], over: Partial<AllocationPlanInput> = {}): AllocationPlanInput => ({
  segmentType: 'CHANNEL',
  rules,
  rebalanceEveryMs: undefined,
  triggersEnabled: undefined,
  enabled: true,
  ...over,
});

/** The fields a refused plan names, in order. */
function refused(input: AllocationPlanInput): string[] {
  try {
    parsePlan(input);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.violations.map((v) => v.field);
    throw err;
  }
  throw new Error('expected the plan to be refused');
}

describe('parsePlan', () => {
  it('fills the defaults and lists the segments the rules name, once each, with the first field naming them', () => {
    const parsed = parsePlan(
      planOf([
        rule({
          segments: [share(ch('WEB'), 4000, { minimum: 100 }), share(UNSEGMENTED, 1000), share(ch('B2B'), 5000)],
        }),
        rule({
          ruleId: 'r2',
          rank: 2,
          strategy: 'PROFITABILITY_RANKED',
          segments: [share(ch('B2B'), 10000, { margin: 1.5, minimum: 0 }), share(ch('STORE'), 0, { margin: -2 })],
        }),
      ]),
    );
    expect(parsed.plan.triggersEnabled).toBe(true);
    expect(parsed.plan.rebalanceEveryMs).toBeNull();
    expect(parsed.plan.rules[0]).toEqual({
      ruleId: 'r1',
      rank: 1,
      conditions: { itemIds: [], nodeIds: ['DC1'], productClass: null, effectiveFromMs: null, effectiveToMs: null },
      strategy: {
        kind: 'FIXED',
        segments: [
          { segment: ch('WEB'), basisPoints: 4000, minimum: 100 },
          { segment: UNSEGMENTED, basisPoints: 1000, minimum: 0 },
          { segment: ch('B2B'), basisPoints: 5000, minimum: 0 },
        ],
      },
    });
    expect(parsed.plan.rules[1]!.strategy).toEqual({
      kind: 'PROFITABILITY_RANKED',
      segments: [
        { segment: ch('B2B'), basisPoints: 10000, minimum: 0, margin: 1.5 },
        { segment: ch('STORE'), basisPoints: 0, minimum: 0, margin: -2 },
      ],
    });
    expect(parsed.segments).toEqual([
      { field: 'rules[0].strategy.segments[0].segment', segment: ch('WEB') },
      { field: 'rules[0].strategy.segments[2].segment', segment: ch('B2B') },
      { field: 'rules[1].strategy.segments[1].segment', segment: ch('STORE') },
    ]);
  });

  it('keeps triggers off when asked, a frequency and a demand window', () => {
    const parsed = parsePlan(
      planOf([rule({ strategy: 'DEMAND_WEIGHTED', windowMs: 7 * 86_400_000 })], {
        triggersEnabled: false,
        rebalanceEveryMs: 3_600_000,
      }),
    );
    expect(parsed.plan).toMatchObject({ triggersEnabled: false, rebalanceEveryMs: 3_600_000 });
    expect(parsed.plan.rules[0]!.strategy).toMatchObject({ kind: 'DEMAND_WEIGHTED', windowMs: 7 * 86_400_000 });
  });

  it('accepts a minimum with 0 % and a rule bounded by dates only', () => {
    const conditions = { ...rule().conditions, nodeIds: [], effectiveFromMs: JAN, effectiveToMs: JAN + 1 };
    const segments = [share(ch('WEB'), 0, { minimum: 50 }), share(UNSEGMENTED, 10000)];
    expect(() => parsePlan(planOf([rule({ conditions, segments })]))).not.toThrow();
  });

  it('refuses percentages that do not sum to 100 %', () => {
    expect(refused(planOf([rule({ segments: [share(ch('WEB'), 6000), share(UNSEGMENTED, 3999)] })]))).toEqual([
      'rules[0].strategy.segments',
    ]);
  });

  it('refuses a percentage that is not whole basis points from 0 to 10000', () => {
    const segments = [share(ch('WEB'), 40.5), share(ch('B2B'), -1), share(UNSEGMENTED, 10001)];
    expect(refused(planOf([rule({ segments })]))).toEqual([
      'rules[0].strategy.segments[0].basis_points',
      'rules[0].strategy.segments[1].basis_points',
      'rules[0].strategy.segments[2].basis_points',
      'rules[0].strategy.segments',
    ]);
  });

  it('refuses duplicate ranks and rule ids', () => {
    expect(refused(planOf([rule(), rule({ ruleId: 'r2' }), rule({ rank: 3 })]))).toEqual([
      'rules[1].rank',
      'rules[2].rule_id',
    ]);
  });

  it('refuses a rank below 1', () => {
    expect(refused(planOf([rule({ rank: 0 })]))).toEqual(['rules[0].rank']);
  });

  it('refuses a segment named twice in a rule', () => {
    const segments = [share(ch('WEB'), 5000), share(ch('WEB'), 5000)];
    expect(refused(planOf([rule({ segments })]))).toEqual(['rules[0].strategy.segments[1].segment']);
  });

  it('refuses a rule with no condition', () => {
    const conditions = { ...rule().conditions, nodeIds: [] };
    expect(refused(planOf([rule({ conditions })]))).toEqual(['rules[0].conditions']);
  });

  it('refuses a date range that ends before it starts, or where it starts', () => {
    const c = { ...rule().conditions, effectiveFromMs: JAN };
    expect(refused(planOf([rule({ conditions: { ...c, effectiveToMs: JAN - 1 } })]))).toEqual([
      'rules[0].conditions.effective_to_time',
    ]);
    expect(refused(planOf([rule({ conditions: { ...c, effectiveToMs: JAN } })]))).toEqual([
      'rules[0].conditions.effective_to_time',
    ]);
  });

  it('refuses a negative or fractional minimum', () => {
    const segments = [share(ch('WEB'), 5000, { minimum: -1 }), share(UNSEGMENTED, 5000, { minimum: 1.5 })];
    expect(refused(planOf([rule({ segments })]))).toEqual([
      'rules[0].strategy.segments[0].minimum',
      'rules[0].strategy.segments[1].minimum',
    ]);
  });

  it("refuses a segment of another type than the plan's", () => {
    const segments = [share(ch('WEB', 'CUSTOMER'), 5000), share(UNSEGMENTED, 5000)];
    expect(refused(planOf([rule({ segments })]))).toEqual(['rules[0].strategy.segments[0].segment.segment_type']);
  });

  it('refuses a missing strategy, a rule without segments, and a demand window or margin where it does not belong', () => {
    expect(refused(planOf([rule({ strategy: undefined })]))).toEqual(['rules[0].strategy']);
    expect(refused(planOf([rule({ segments: [] })]))).toEqual(['rules[0].strategy.segments']);
    expect(refused(planOf([rule({ strategy: 'DEMAND_WEIGHTED' })]))).toEqual(['rules[0].strategy.window']);
    expect(refused(planOf([rule({ windowMs: 1000 })]))).toEqual(['rules[0].strategy.window']);
    expect(refused(planOf([rule({ strategy: 'PROFITABILITY_RANKED' })]))).toEqual([
      'rules[0].strategy.segments[0].margin',
      'rules[0].strategy.segments[1].margin',
    ]);
    const withMargin = [share(ch('WEB'), 5000, { margin: 1 }), share(UNSEGMENTED, 5000, { margin: Infinity })];
    expect(refused(planOf([rule({ segments: withMargin })]))).toEqual([
      'rules[0].strategy.segments[0].margin',
      'rules[0].strategy.segments[1].margin',
    ]);
  });

  it('refuses a bad segment type, frequency, node id and segment key', () => {
    const conditions = { ...rule().conditions, nodeIds: ['bad id'] };
    const segments = [share({ segmentType: 'CHANNEL', segment: '' }, 5000), share(UNSEGMENTED, 5000)];
    expect(refused(planOf([rule({ conditions, segments })], { segmentType: '', rebalanceEveryMs: 1000 }))).toEqual([
      'segment_type',
      'rebalance_every',
      'rules[0].conditions.node_ids[0]',
      'rules[0].strategy.segments[0].segment.segment',
    ]);
  });

  it('lists every problem of every rule in one error', () => {
    const conditions = { ...rule().conditions, nodeIds: [] };
    const err = (() => {
      try {
        return parsePlan(planOf([rule({ conditions }), rule({ segments: [share(ch('WEB'), 1)] })]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).violations).toEqual([
      { field: 'rules[0].conditions', description: expect.stringContaining('at least one condition') },
      { field: 'rules[1].rule_id', description: 'is the rule_id of rules[0]' },
      { field: 'rules[1].rank', description: 'is the rank of rules[0]; ranks must differ' },
      { field: 'rules[1].strategy.segments', description: expect.stringContaining('sum to 100 %') },
    ]);
  });
});
