import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { describeEachDatabase } from '@inventory/store/testing';
import { createNodes, defineSegments, item } from './testing/stock';
import { promisify, startTestService, type Promisified, type TestService } from './testing/harness';
import { POOL, seg, share } from './testing/plans';

const [S1, S2, S3] = [seg('S1'), seg('S2'), seg('S3')];
const strategy = (
  kind: 'fixed' | 'demandWeighted' | 'profitabilityRanked',
  segments: pb.AllocationSegmentShare[],
  windowSeconds?: number,
) => ({
  [kind]: {},
  segments,
  window: windowSeconds === undefined ? undefined : { seconds: windowSeconds, nanos: 0 },
});
const rule = (
  ruleId: string,
  rank: number,
  conditions: Partial<pb.AllocationRuleConditions>,
  how: pb.AllocationStrategy,
): pb.AllocationRule => ({
  ruleId,
  rank,
  conditions: { itemIds: [], nodeIds: [], productClass: undefined, ...conditions },
  strategy: how,
});

/** One rule per case, each on its own node; the cases below read them. */
const RULES: pb.AllocationRule[] = [
  rule('general', 1, { nodeIds: ['N-RANK'] }, strategy('fixed', [share(S1, 5000), share(POOL, 5000)])),
  rule('specific', 2, { itemIds: ['SPECIFIC'], nodeIds: ['N-RANK'] }, strategy('fixed', [share(S2, 10000)])),
  rule('zero-with-minimum', 3, { nodeIds: ['N-MIN'] }, strategy('fixed', [share(S1, 0, 30), share(POOL, 10000)])),
  rule(
    'thirds',
    4,
    { nodeIds: ['N-ROUND'] },
    strategy('fixed', [share(S1, 3333), share(S2, 3333), share(S3, 3333), share(POOL, 1)]),
  ),
  rule('floor', 5, { nodeIds: ['N-FLOOR'] }, strategy('fixed', [share(S1, 1000), share(S2, 9000)])),
  rule('repay', 6, { nodeIds: ['N-REPAY'] }, strategy('fixed', [share(S1, 3000), share(POOL, 7000)])),
  rule('by-demand', 7, { nodeIds: ['N-DEMAND'] }, strategy('demandWeighted', [share(S1, 5000), share(S2, 5000)], 3600)),
  rule(
    'by-margin',
    8,
    { nodeIds: ['N-PROFIT'] },
    strategy('profitabilityRanked', [share(S1, 5000, 10, 5), share(S2, 5000, 0, 9)]),
  ),
];
const NODES = ['N-RANK', 'N-MIN', 'N-ROUND', 'N-FLOOR', 'N-REPAY', 'N-DEMAND', 'N-PROFIT', 'N-DATE'];

describeEachDatabase('rebalancing under rules', (dialect) => {
  let t: TestService;
  let rebalance: Promisified<pb.RebalanceServiceClient>;
  let plans: Promisified<pb.AllocationPlanServiceClient>;
  let rules: Promisified<pb.ConsumptionRuleServiceClient>;
  const closers: Array<{ close(): void }> = [];
  let requests = 0;
  const requestId = (prefix: string) => `${prefix}-${++requests}`;

  const key = (itemId: string, nodeId: string, segment: pb.SegmentKey): pb.SupplyKey => ({
    item: item(itemId),
    nodeId,
    segment,
    supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
    etaTime: undefined,
  });
  const stock = (itemId: string, nodeId: string, quantities: Array<[pb.SegmentKey, number]>) =>
    t.clients.supply.syncSupply({
      requestId: requestId('stock'),
      lines: quantities.map(([segment, quantity]) => ({
        key: key(itemId, nodeId, segment),
        quantity,
        sourceTime: new Date(Date.now() - 1000),
      })),
    });
  const setPlan = (planRules: pb.AllocationRule[]) =>
    plans.setAllocationPlan({
      requestId: requestId('plan'),
      plan: { segmentType: 'CHANNEL', version: 0, rules: planRules, enabled: true, requestId: '' },
    });
  const rebalanceAt = (itemId: string, nodeId: string, dryRun = false) =>
    rebalance
      .rebalance({
        requestId: dryRun ? '' : requestId('rebalance'),
        segmentType: 'CHANNEL',
        itemIds: [itemId],
        nodeIds: [nodeId],
        dryRun,
        actor: '',
        pageSize: 0,
        pageToken: '',
      })
      .then((res) => {
        expect(res.itemNodes).toHaveLength(1);
        return res.itemNodes[0]!;
      });
  /** Each participant's ONHAND [segment, before, after, outcome] as the rebalance reported it. */
  const onhand = (allocation: pb.ItemNodeAllocation) =>
    allocation.supplyTypes
      .find((s) => s.supplyType === pb.SupplyType.SUPPLY_TYPE_ONHAND)!
      .segments.map((s) => [s.segment?.segment, s.before, s.after, s.outcome]);
  const quantities = async (itemId: string, nodeId: string) =>
    Promise.all(
      [POOL, S1, S2, S3].map(async (segment) =>
        (await t.clients.supply.getSupply({ item: item(itemId), nodeId, segment })).supplies.reduce(
          (sum, s) => sum + s.quantity,
          0,
        ),
      ),
    );
  const reserve = (itemId: string, nodeId: string, segment: pb.SegmentKey, quantity: number) =>
    t.clients.reservations.reserve({
      reservationId: requestId('reservation'),
      lines: [{ item: item(itemId), nodeId, distributionGroupId: undefined, segment, quantity, allowSplit: false }],
      expireTime: new Date(Date.now() + 3_600_000),
    });
  const { TARGET, LEFTOVER, OWN_COMMITMENTS, OTHERS_COMMITMENTS } = {
    TARGET: pb.AllocationOutcome.ALLOCATION_OUTCOME_TARGET,
    LEFTOVER: pb.AllocationOutcome.ALLOCATION_OUTCOME_LEFTOVER,
    OWN_COMMITMENTS: pb.AllocationOutcome.ALLOCATION_OUTCOME_OWN_COMMITMENTS,
    OTHERS_COMMITMENTS: pb.AllocationOutcome.ALLOCATION_OUTCOME_OTHERS_COMMITMENTS,
  };

  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_REBALANCE_INTERVAL_MS: '0' });
    const rebalanceClient = new pb.RebalanceServiceClient(t.address, credentials.createInsecure());
    const planClient = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    const rulesClient = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    closers.push(rebalanceClient, planClient, rulesClient);
    [rebalance, plans, rules] = [promisify(rebalanceClient), promisify(planClient), promisify(rulesClient)];
    await createNodes(t.clients, NODES);
    await defineSegments(t.address, [S1, S2, S3]);
    await setPlan(RULES);
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    await t.stop();
  });

  it('applies the best-ranked matching rule, however specific a lower-ranked one is', async () => {
    await stock('SPECIFIC', 'N-RANK', [[POOL, 100]]);
    const done = await rebalanceAt('SPECIFIC', 'N-RANK');
    expect(done.ruleId).toBe('general');
    expect(await quantities('SPECIFIC', 'N-RANK')).toEqual([50, 50, 0, 0]);
  });

  it('gives a segment its minimum with a 0 % share', async () => {
    await stock('MIN', 'N-MIN', [[POOL, 100]]);
    const done = await rebalanceAt('MIN', 'N-MIN');
    expect(done.supplyTypes[0]?.segments[0]).toMatchObject({ target: 30, after: 30, minimumApplied: true });
    expect(await quantities('MIN', 'N-MIN')).toEqual([70, 30, 0, 0]);
  });

  it('gives the rounding remainder to the unsegmented pool', async () => {
    await stock('ROUND', 'N-ROUND', [[POOL, 10]]);
    expect(onhand(await rebalanceAt('ROUND', 'N-ROUND'))).toEqual([
      ['S1', 0, 3, TARGET],
      ['S2', 0, 3, TARGET],
      ['S3', 0, 3, TARGET],
      ['', 10, 1, LEFTOVER],
    ]);
    expect(await quantities('ROUND', 'N-ROUND')).toEqual([1, 3, 3, 3]);
  });

  it('never takes a segment below its commitments, and says who got less because of it', async () => {
    await stock('FLOOR', 'N-FLOOR', [
      [POOL, 50],
      [S1, 50],
    ]);
    await reserve('FLOOR', 'N-FLOOR', S1, 40);
    const done = await rebalanceAt('FLOOR', 'N-FLOOR');
    expect(onhand(done)).toEqual([
      ['S1', 50, 40, OWN_COMMITMENTS],
      ['S2', 0, 60, OTHERS_COMMITMENTS],
      ['', 50, 0, TARGET],
    ]);
    expect(done.supplyTypes[0]?.segments[0]).toMatchObject({ target: 10, committedFloor: 40 });
    expect(await quantities('FLOOR', 'N-FLOOR')).toEqual([0, 40, 60, 0]);
  });

  it("repays a borrowing segment's loan before handing out its share", async () => {
    await rules.setConsumptionRules({
      requestId: requestId('rules'),
      borrowingEnabled: true,
      segments: [{ segment: S1, mayBorrow: true }],
    });
    await stock('REPAY', 'N-REPAY', [[POOL, 100]]);
    await reserve('REPAY', 'N-REPAY', S1, 20); // all of it borrowed from the pool
    const borrowedBefore = await t.clients.availability.getNodeAvailability({
      item: item('REPAY'),
      nodeId: 'N-REPAY',
      segment: S1,
      asOfTime: undefined,
    });
    expect(borrowedBefore.availability?.borrowed).toBe(20);
    const done = await rebalanceAt('REPAY', 'N-REPAY');
    expect(done.loans.map((l) => [l.segment?.segment, l.before, l.after])).toEqual([['S1', 20, 0]]);
    expect(await quantities('REPAY', 'N-REPAY')).toEqual([70, 30, 0, 0]);
    const after = await t.clients.availability.getNodeAvailability({
      item: item('REPAY'),
      nodeId: 'N-REPAY',
      segment: S1,
      asOfTime: undefined,
    });
    expect(after.availability).toMatchObject({ borrowed: 0, ownAvailable: 10 });
  });

  it("splits by each segment's demand in the rule's window", async () => {
    await stock('DEMAND', 'N-DEMAND', [[POOL, 100]]);
    await t.clients.demand.syncDemand({
      requestId: requestId('demand'),
      lines: [
        [S1, 30],
        [S2, 10],
      ].map(([segment, quantity]) => ({
        key: {
          item: item('DEMAND'),
          nodeId: 'N-DEMAND',
          segment: segment as pb.SegmentKey,
          demandType: pb.DemandType.DEMAND_TYPE_ALLOCATED,
          orderReference: '',
        },
        quantity: quantity as number,
        sourceTime: new Date(Date.now() - 1000),
      })),
    });
    const done = await rebalanceAt('DEMAND', 'N-DEMAND');
    expect(done.sharesFrom).toBe(pb.SharesSource.SHARES_SOURCE_DEMAND);
    expect(await quantities('DEMAND', 'N-DEMAND')).toEqual([0, 75, 25, 0]);
  });

  it('serves segments by margin: commitments first, then minimums, then shares of the rest', async () => {
    await stock('PROFIT', 'N-PROFIT', [[POOL, 100]]);
    await t.clients.demand.syncDemand({
      requestId: requestId('demand'),
      lines: [
        {
          key: {
            item: item('PROFIT'),
            nodeId: 'N-PROFIT',
            segment: S2,
            demandType: pb.DemandType.DEMAND_TYPE_ALLOCATED,
            orderReference: '',
          },
          quantity: 20,
          sourceTime: new Date(Date.now() - 1000),
        },
      ],
    });
    // S2 (margin 9) first: its 20 committed; S1 (margin 5) its minimum 10; the 70 left split half and half.
    expect(onhand(await rebalanceAt('PROFIT', 'N-PROFIT'))).toEqual([
      ['S2', 0, 55, TARGET],
      ['S1', 0, 45, TARGET],
      ['', 100, 0, TARGET],
    ]);
    expect(await quantities('PROFIT', 'N-PROFIT')).toEqual([0, 45, 55, 0]);
  });

  it('stops applying a date-bounded rule once its range ends', async () => {
    const endsMs = Date.now() + 1500;
    await setPlan([
      ...RULES,
      rule(
        'until-soon',
        20,
        { nodeIds: ['N-DATE'], effectiveFromTime: new Date(endsMs - 3_600_000), effectiveToTime: new Date(endsMs) },
        strategy('fixed', [share(S1, 10000)]),
      ),
      rule('afterwards', 21, { nodeIds: ['N-DATE'] }, strategy('fixed', [share(S1, 0), share(S2, 10000)])),
    ]);
    await stock('DATED', 'N-DATE', [[POOL, 100]]);
    expect((await rebalanceAt('DATED', 'N-DATE')).ruleId).toBe('until-soon');
    expect(await quantities('DATED', 'N-DATE')).toEqual([0, 100, 0, 0]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsMs - Date.now() + 50)));
    const later = await rebalanceAt('DATED', 'N-DATE');
    expect(later.ruleId).toBe('afterwards');
    expect(await quantities('DATED', 'N-DATE')).toEqual([0, 0, 100, 0]);
  });
});
