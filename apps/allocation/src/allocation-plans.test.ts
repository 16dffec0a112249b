import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { defineSegments } from './testing/stock';
import {
  grpcError,
  promisify,
  rowCounts,
  startTestService,
  type Promisified,
  type TestService,
} from './testing/harness';
import { fixed, POOL, seg, share } from './testing/plans';

const rule = (ruleId: string, rank: number, over: Partial<pb.AllocationRule> = {}): pb.AllocationRule => ({
  ruleId,
  rank,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: undefined },
  strategy: fixed([share(seg('S1'), 5000), share(POOL, 5000)]),
  ...over,
});
const plan = (rules: pb.AllocationRule[], over: Partial<pb.AllocationPlan> = {}): pb.AllocationPlan => ({
  segmentType: 'CHANNEL',
  version: 0,
  rules,
  enabled: true,
  requestId: '',
  ...over,
});

/** DESIGN's worked example: Segment1 40 % min 100, Unsegmented 10 %, Segment2 20 % min 300, Segment3 30 %. */
const designRule = rule('design', 1, {
  conditions: {
    itemIds: ['SKU-1'],
    nodeIds: [],
    productClass: 'SHOES',
    effectiveFromTime: new Date(1_800_000_000_000),
  },
  strategy: fixed([
    share(seg('S1'), 4000, 100),
    share(POOL, 1000),
    share(seg('S2'), 2000, 300),
    share(seg('S3'), 3000),
  ]),
});

describeEachDatabase('allocation plans', (dialect) => {
  let t: TestService;
  let plans: Promisified<pb.AllocationPlanServiceClient>;
  let client: pb.AllocationPlanServiceClient;
  let segmentClient: pb.SegmentServiceClient;
  beforeAll(async () => {
    t = await startTestService(dialect);
    client = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    segmentClient = new pb.SegmentServiceClient(t.address, credentials.createInsecure());
    plans = promisify(client);
    await defineSegments(t.address, [
      ...['S1', 'S2', 'S3', 'OLD'].map((s) => seg(s)),
      seg('B2B', 'CUSTOMER_TYPE'),
      seg('X', 'EMPTY_TYPE'),
    ]);
    await promisify(segmentClient).retireSegment({ requestId: 'retire-old', segmentType: 'CHANNEL', segment: 'OLD' });
  });
  afterAll(async () => {
    client.close();
    segmentClient.close();
    await t.stop();
  });

  const versionCount = async () =>
    Number((await t.database.db.knex('allocation_plan_versions').count({ n: '*' }).first())?.n);

  it("stores DESIGN's rule and reads it back as sent, with the defaults filled in", async () => {
    const before = Date.now();
    const set = await plans.setAllocationPlan({
      requestId: 'plan-1',
      plan: plan([designRule], { rebalanceEvery: { seconds: 3600, nanos: 0 } }),
    });
    expect(set.plan).toEqual({
      segmentType: 'CHANNEL',
      version: 1,
      rules: [designRule],
      rebalanceEvery: { seconds: 3600, nanos: 0 },
      triggersEnabled: true,
      enabled: true,
      createTime: expect.any(Date),
      requestId: 'plan-1',
    });
    expect(set.plan!.createTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 0 })).plan).toEqual(set.plan);
    expect((await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 1 })).plan).toEqual(set.plan);
  });

  it('keeps every version, lists them newest first, returns the first answer on a retry', async () => {
    const demand: pb.AllocationRule = rule('demand', 2, {
      strategy: {
        demandWeighted: {},
        segments: [share(seg('S1'), 6000), share(seg('S2'), 4000)],
        window: { seconds: 7 * 86_400, nanos: 0 },
      },
    });
    const ranked: pb.AllocationRule = rule('ranked', 3, {
      conditions: {
        itemIds: [],
        nodeIds: [],
        productClass: '',
        effectiveFromTime: new Date(1_800_000_000_000),
        effectiveToTime: new Date(1_900_000_000_000),
      },
      strategy: {
        profitabilityRanked: {},
        segments: [
          { segment: seg('S1'), basisPoints: 3333, minimum: 0, margin: 1.5 },
          { segment: seg('S3'), basisPoints: 6667, margin: -2 },
        ],
        window: undefined,
      },
    });
    const request = {
      requestId: 'plan-2',
      plan: plan([ranked, designRule, demand], { triggersEnabled: false, enabled: false }),
    };
    const second = await plans.setAllocationPlan(request);
    expect(second.plan).toMatchObject({
      version: 2,
      triggersEnabled: false,
      enabled: false,
      rebalanceEvery: undefined,
    });
    // A minimum of 0 is no minimum: it comes back unset.
    expect(second.plan!.rules).toEqual([
      {
        ...ranked,
        strategy: {
          ...ranked.strategy!,
          segments: [{ segment: seg('S1'), basisPoints: 3333, margin: 1.5 }, ranked.strategy!.segments[1]],
        },
      },
      designRule,
      demand,
    ]);
    const countBefore = await versionCount();
    expect(await plans.setAllocationPlan(request)).toEqual(second);
    const reused = await grpcError(plans.setAllocationPlan({ ...request, plan: plan([designRule]) }));
    expect([reused.code, errorDetails(reused).errorInfo?.reason]).toEqual([status.ALREADY_EXISTS, 'REQUEST_ID_REUSED']);
    expect(await versionCount()).toBe(countBefore);

    const third = await plans.setAllocationPlan({ requestId: 'plan-3', plan: plan([designRule]) });
    expect(third.plan?.version).toBe(3);
    const first = (await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 1 })).plan;
    expect((await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 2 })).plan).toEqual(second.plan);
    expect((await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 0 })).plan).toEqual(third.plan);

    const pages: number[][] = [];
    let pageToken = '';
    do {
      const res = await plans.listAllocationPlanVersions({ segmentType: 'CHANNEL', pageSize: 2, pageToken });
      pages.push(res.plans.map((p) => p.version));
      pageToken = res.nextPageToken;
    } while (pageToken);
    expect(pages).toEqual([[3, 2], [1]]);
    const all = await plans.listAllocationPlanVersions({ segmentType: 'CHANNEL', pageSize: 0, pageToken: '' });
    expect(all.plans).toEqual([third.plan, second.plan, first]);
  });

  it('lists the current version of each segment type that has a plan, by segment type', async () => {
    const b2b = await plans.setAllocationPlan({
      requestId: 'plan-b2b',
      plan: plan([rule('b2b', 1, { strategy: fixed([share(seg('B2B', 'CUSTOMER_TYPE'), 10000)]) })], {
        segmentType: 'CUSTOMER_TYPE',
      }),
    });
    const current = (await plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 0 })).plan;
    const first = await plans.listAllocationPlans({ pageSize: 1, pageToken: '' });
    expect(first.plans).toEqual([current]);
    const second = await plans.listAllocationPlans({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second).toEqual({ plans: [b2b.plan], nextPageToken: '' });
    expect(
      (await plans.listAllocationPlanVersions({ segmentType: 'EMPTY_TYPE', pageSize: 0, pageToken: '' })).plans,
    ).toEqual([]);
  });

  it('announces each new version in an allocation_plan_changed event of the same transaction', async () => {
    const set = await plans.setAllocationPlan({ requestId: 'plan-event', plan: plan([designRule]) });
    const events = await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 1000 });
    expect(events.filter((e) => e.requestId === 'plan-event')).toEqual([
      expect.objectContaining({
        type: 'allocation_plan_changed',
        auditType: pb.AuditType.AUDIT_TYPE_USER,
        allocationPlanChanged: { plan: set.plan },
      }),
    ]);
    const announced = events.filter((e) => e.type === 'allocation_plan_changed');
    expect(announced).toHaveLength(await versionCount());
  });

  it('refuses an invalid plan, names the request field and changes nothing', async () => {
    const rowsBefore = await rowCounts(t.database);
    const versionsBefore = await versionCount();
    const strategy = (segments: pb.AllocationSegmentShare[]) => ({ strategy: fixed(segments) });
    const refused: Array<[string, pb.SetAllocationPlanRequest, string]> = [
      ['no request id', { requestId: '', plan: plan([designRule]) }, 'request_id'],
      ['no plan', { requestId: 'bad-1' }, 'plan.segment_type'],
      [
        'percentages not 100',
        {
          requestId: 'bad-2',
          plan: plan([designRule, rule('r2', 2, strategy([share(seg('S1'), 4000), share(seg('S2'), 5000)]))]),
        },
        'plan.rules[1].strategy.segments',
      ],
      ['duplicate ranks', { requestId: 'bad-3', plan: plan([rule('a', 1), rule('b', 1)]) }, 'plan.rules[1].rank'],
      [
        'no condition',
        { requestId: 'bad-4', plan: plan([rule('a', 1, { conditions: { itemIds: [], nodeIds: [] } })]) },
        'plan.rules[0].conditions',
      ],
      [
        'date range reversed',
        {
          requestId: 'bad-5',
          plan: plan([
            rule('a', 1, {
              conditions: {
                itemIds: [],
                nodeIds: [],
                effectiveFromTime: new Date(1_900_000_000_000),
                effectiveToTime: new Date(1_800_000_000_000),
              },
            }),
          ]),
        },
        'plan.rules[0].conditions.effective_to_time',
      ],
      [
        'negative minimum',
        {
          requestId: 'bad-6',
          plan: plan([rule('a', 1, strategy([share(seg('S1'), 5000), share(seg('S2'), 5000, -1)]))]),
        },
        'plan.rules[0].strategy.segments[1].minimum',
      ],
      [
        'basis points above 100 %',
        { requestId: 'bad-7', plan: plan([rule('a', 1, strategy([share(seg('S1'), 10001)]))]) },
        'plan.rules[0].strategy.segments[0].basis_points',
      ],
      [
        'no strategy kind',
        { requestId: 'bad-8', plan: plan([rule('a', 1, { strategy: { segments: [share(seg('S1'), 10000)] } })]) },
        'plan.rules[0].strategy',
      ],
      [
        'demand-weighted without a window',
        {
          requestId: 'bad-9',
          plan: plan([rule('a', 1, { strategy: { demandWeighted: {}, segments: [share(seg('S1'), 10000)] } })]),
        },
        'plan.rules[0].strategy.window',
      ],
      [
        'rebalancing every second',
        { requestId: 'bad-10', plan: plan([designRule], { rebalanceEvery: { seconds: 1, nanos: 0 } }) },
        'plan.rebalance_every',
      ],
      [
        'a segment of another type',
        { requestId: 'bad-11', plan: plan([rule('a', 1, strategy([share(seg('B2B', 'CUSTOMER_TYPE'), 10000)]))]) },
        'plan.rules[0].strategy.segments[0].segment.segment_type',
      ],
    ];
    for (const [what, request, field] of refused) {
      const err = await grpcError(plans.setAllocationPlan(request));
      expect([what, err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([
        what,
        status.INVALID_ARGUMENT,
        field,
      ]);
    }
    // Every problem is named, not only the first.
    const many = await grpcError(
      plans.setAllocationPlan({
        requestId: 'bad-many',
        plan: plan([rule('a', 1, strategy([share(seg('S1'), 4000, -1)])), rule('b', 1)]),
      }),
    );
    expect(errorDetails(many).badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'plan.rules[0].strategy.segments[0].minimum',
      'plan.rules[0].strategy.segments',
      'plan.rules[1].rank',
    ]);
    expect(await rowCounts(t.database)).toEqual(rowsBefore);
    expect(await versionCount()).toBe(versionsBefore);
  });

  it('refuses an unknown or retired segment, an unknown segment type, and a plan that was never made', async () => {
    const rowsBefore = await rowCounts(t.database);
    const versionsBefore = await versionCount();
    const withSegment = (requestId: string, segment: string) =>
      plans.setAllocationPlan({
        requestId,
        plan: plan([rule('a', 1, { strategy: fixed([share(seg('S1'), 5000), share(seg(segment), 5000)]) })]),
      });
    for (const [requestId, segment, state] of [
      ['ghost', 'GHOST', undefined],
      ['retired', 'OLD', 'RETIRED'],
    ] as const) {
      const err = await grpcError(withSegment(requestId, segment));
      expect([err.code, errorDetails(err).errorInfo]).toEqual([
        status.FAILED_PRECONDITION,
        expect.objectContaining({
          reason: 'SEGMENT_NOT_DEFINED',
          metadata: expect.objectContaining({ field: 'plan.rules[0].strategy.segments[1].segment' }),
        }),
      ]);
      expect(errorDetails(err).errorInfo?.metadata['state']).toBe(state);
    }
    const unknownType = await grpcError(
      plans.setAllocationPlan({
        requestId: 'no-type',
        plan: plan([rule('a', 1, { strategy: fixed([share(seg('A', 'NO_SUCH_TYPE'), 10000)]) })], {
          segmentType: 'NO_SUCH_TYPE',
        }),
      }),
    );
    expect([unknownType.code, errorDetails(unknownType).errorInfo?.reason]).toEqual([
      status.NOT_FOUND,
      'SEGMENT_TYPE_NOT_FOUND',
    ]);
    expect(await rowCounts(t.database)).toEqual(rowsBefore);
    expect(await versionCount()).toBe(versionsBefore);

    for (const [call, reason] of [
      [plans.getAllocationPlan({ segmentType: 'NO_SUCH_TYPE', version: 0 }), 'SEGMENT_TYPE_NOT_FOUND'],
      [plans.getAllocationPlan({ segmentType: 'EMPTY_TYPE', version: 0 }), 'ALLOCATION_PLAN_NOT_FOUND'],
      [plans.getAllocationPlan({ segmentType: 'CHANNEL', version: 99 }), 'ALLOCATION_PLAN_NOT_FOUND'],
      [
        plans.listAllocationPlanVersions({ segmentType: 'NO_SUCH_TYPE', pageSize: 0, pageToken: '' }),
        'SEGMENT_TYPE_NOT_FOUND',
      ],
    ] as const) {
      const err = await grpcError(call);
      expect([err.code, errorDetails(err).errorInfo?.reason]).toEqual([status.NOT_FOUND, reason]);
    }
    for (const [call, field] of [
      [plans.getAllocationPlan({ segmentType: 'CHANNEL', version: -1 }), 'version'],
      [plans.getAllocationPlan({ segmentType: '', version: 0 }), 'segment_type'],
      [plans.listAllocationPlans({ pageSize: -1, pageToken: '' }), 'page_size'],
      [plans.listAllocationPlans({ pageSize: 1, pageToken: 'garbage' }), 'page_token'],
      [plans.listAllocationPlanVersions({ segmentType: 'CHANNEL', pageSize: 1, pageToken: 'garbage' }), 'page_token'],
    ] as const) {
      const err = await grpcError(call);
      expect([err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([status.INVALID_ARGUMENT, field]);
    }
  });

  it('refuses to retire a segment the plan in force gives a share, and retires it once a plan leaves it out', async () => {
    await defineSegments(t.address, [seg('LEAVING', 'TIER')]);
    const retire = (requestId: string) =>
      promisify(segmentClient).retireSegment({ requestId, segmentType: 'TIER', segment: 'LEAVING' });
    const tiered = (shares: pb.AllocationSegmentShare[]) =>
      plan([rule('tier', 1, { strategy: fixed(shares) })], { segmentType: 'TIER' });
    await plans.setAllocationPlan({
      requestId: 'tier-1',
      plan: tiered([share(seg('LEAVING', 'TIER'), 6000), share(POOL, 4000)]),
    });
    const refused = await grpcError(retire('tier-retire-1'));
    expect([refused.code, errorDetails(refused).errorInfo?.reason]).toEqual([
      status.FAILED_PRECONDITION,
      'SEGMENT_IN_PLAN',
    ]);
    expect(errorDetails(refused).errorInfo?.metadata).toMatchObject({ plan_version: '1', rule_ids: 'tier' });
    await plans.setAllocationPlan({ requestId: 'tier-2', plan: tiered([share(POOL, 10000)]) });
    expect((await retire('tier-retire-2')).segment?.state).toBe(pb.SegmentState.SEGMENT_STATE_RETIRED);
  });
});
