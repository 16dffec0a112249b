import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { createNodes, defineSegments } from './testing/stock';
import { grpcError, promisify, rowCounts, startTestService, type TestService } from './testing/harness';
import { fixed, POOL, seg, share } from './testing/plans';

const [S1, S2, S3, NORTH] = [seg('S1'), seg('S2'), seg('S3'), seg('NORTH', 'REGION')];
const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: 'EA', productClass: 'SHOES' });
const onhandKey = (itemId: string, nodeId: string, segment: pb.SegmentKey): pb.SupplyKey => ({
  item: item(itemId),
  nodeId,
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});
const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);

/** DESIGN's worked example at DC1: Segment1 40 % min 100, Unsegmented 10 %, Segment2 20 % min 300, Segment3 30 %. */
const designRule: pb.AllocationRule = {
  ruleId: 'design',
  rank: 2,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: undefined },
  strategy: fixed([share(S1, 4000, 100), share(POOL, 1000), share(S2, 2000, 300), share(S3, 3000)]),
};
/** For item ORDERED, a walk unlike key order: S3, S1, S2 (so a total takes from S2, then S1, then S3). */
const orderedRule: pb.AllocationRule = {
  ruleId: 'ordered',
  rank: 1,
  conditions: { itemIds: ['ORDERED'], nodeIds: ['DC1'], productClass: undefined },
  strategy: fixed([share(S3, 5000), share(S1, 3000), share(S2, 2000)]),
};

describeEachDatabase('physical-total supply sync', (dialect) => {
  let t: TestService;
  let closePlans: () => void;
  let syncs = 0;

  /** Sets ONHAND of an item at a node per segment (plain lines), as of a minute ago. */
  async function stock(itemId: string, nodeId: string, quantities: Array<[pb.SegmentKey, number]>) {
    await t.clients.supply.syncSupply({
      requestId: `stock-${++syncs}`,
      lines: quantities.map(([segment, quantity]) => ({
        key: onhandKey(itemId, nodeId, segment),
        quantity,
        sourceTime: secondsAgo(60),
      })),
    });
  }

  /** Sets a segment's counted demand (an open order) of an item at a node. */
  async function demand(itemId: string, nodeId: string, segment: pb.SegmentKey, quantity: number) {
    await t.clients.demand.syncDemand({
      requestId: `demand-${++syncs}`,
      lines: [
        {
          key: {
            item: item(itemId),
            nodeId,
            segment,
            demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
            orderReference: '',
          },
          quantity,
          sourceTime: secondsAgo(60),
        },
      ],
    });
  }

  const total = (requestId: string, itemId: string, nodeId: string, quantity: number, sourceTime = secondsAgo(10)) => ({
    requestId,
    lines: [{ key: onhandKey(itemId, nodeId, POOL), quantity, sourceTime, physicalTotal: true }],
  });

  async function onhandOf(itemId: string, nodeId: string, segments: pb.SegmentKey[]): Promise<number[]> {
    return Promise.all(
      segments.map(async (segment) => {
        const res = await t.clients.supply.getSupply({ item: item(itemId), nodeId, segment });
        return res.supplies.reduce((sum, s) => sum + s.quantity, 0);
      }),
    );
  }

  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_REBALANCE_INTERVAL_MS: '0' });
    const planClient = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    closePlans = () => planClient.close();
    const plans = promisify(planClient);
    await createNodes(t.clients, ['DC1', 'DC2', 'DC3']);
    await defineSegments(t.address, [S1, S2, S3, NORTH, seg('SOUTH', 'REGION')]);
    await plans.setAllocationPlan({
      requestId: 'plan-channel',
      plan: { segmentType: 'CHANNEL', version: 0, rules: [orderedRule, designRule], enabled: true, requestId: '' },
    });
    // REGION's plan has a rule at DC3 but is disabled: it allocates nothing.
    const regionRule: pb.AllocationRule = {
      ruleId: 'region',
      rank: 1,
      conditions: { itemIds: [], nodeIds: ['DC3'], productClass: undefined },
      strategy: fixed([share(NORTH, 10000)]),
    };
    await plans.setAllocationPlan({
      requestId: 'plan-region',
      plan: { segmentType: 'REGION', version: 0, rules: [regionRule], enabled: false, requestId: '' },
    });
  });
  afterAll(async () => {
    closePlans();
    await t.stop();
  });

  it("a total above the segments' sum sets the pool to the difference, then DESIGN's rule allocates it", async () => {
    await stock('DESIGN', 'DC1', [
      [POOL, 5],
      [S1, 200],
      [S2, 100],
    ]);
    const request = total('design-total', 'DESIGN', 'DC1', 1000);
    const answer = await t.clients.supply.syncSupply(request);
    expect(answer.results).toEqual([
      {
        key: onhandKey('DESIGN', 'DC1', POOL),
        outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED,
        quantityBefore: 5,
        quantityAfter: 700,
      },
    ]);
    expect(answer.allocations).toHaveLength(1);
    const [allocation] = answer.allocations;
    expect(allocation).toMatchObject({ nodeId: 'DC1', ruleId: 'design', planVersion: 1 });
    const onhand = allocation!.supplyTypes[0]!;
    expect(onhand.pool).toBe(1000);
    expect(onhand.segments.map((s) => [s.segment?.segment, s.before, s.after])).toEqual([
      ['S1', 200, 400],
      ['', 700, 100],
      ['S2', 100, 300],
      ['S3', 0, 200],
    ]);
    expect(await onhandOf('DESIGN', 'DC1', [POOL, S1, S2, S3])).toEqual([100, 400, 300, 200]);

    // A retry returns the first answer, allocations included, and changes nothing.
    const before = await rowCounts(t.database);
    expect(await t.clients.supply.syncSupply(request)).toEqual(answer);
    expect(await rowCounts(t.database)).toEqual(before);
    const changed = await grpcError(t.clients.supply.syncSupply({ ...request, skipAllocation: true }));
    expect(changed.code).toBe(status.ALREADY_EXISTS);
  });

  it("records the sync as the caller's and the allocation as the service's, with the sync as its parent", async () => {
    await stock('AUDIT', 'DC1', [[S1, 50]]);
    await t.clients.supply.syncSupply(total('audit-total', 'AUDIT', 'DC1', 1000));
    const events = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 100_000 })).filter(
      (e) => e.requestId === 'audit-total' && e.type === 'supply_changed',
    );
    const sync = events.filter((e) => e.supplyChanged?.purpose === pb.SupplyPurpose.SUPPLY_PURPOSE_SUPPLY_SYNC);
    expect(sync).toHaveLength(1);
    expect(sync[0]).toMatchObject({ auditType: pb.AuditType.AUDIT_TYPE_USER, parentActionId: '' });
    expect(sync[0]!.supplyChanged).toMatchObject({
      transactionType: pb.TransactionType.TRANSACTION_TYPE_SYNC,
      quantity: 950,
      reason: 'PHYSICAL_TOTAL',
    });
    const allocated = events.filter((e) => e !== sync[0]);
    expect(allocated.length).toBeGreaterThan(0);
    for (const e of allocated) {
      expect(e).toMatchObject({
        auditType: pb.AuditType.AUDIT_TYPE_SYSTEM,
        actor: 'supply-sync-allocation',
        parentActionId: sync[0]!.actionId,
        relatedActionId: allocated[0]!.relatedActionId,
      });
      expect(e.supplyChanged?.purpose).toBe(pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_ALLOCATION);
      expect(e.supplyChanged?.allocation).toMatchObject({ segmentType: 'CHANNEL', ruleId: 'design', planVersion: 1 });
    }
    expect(allocated[0]!.relatedActionId).not.toBe('');
    expect(allocated.reduce((sum, e) => sum + e.supplyChanged!.quantity, 0)).toBe(0);
  });

  it("a total below the segments' sum empties the pool, then takes in reverse priority down to commitments", async () => {
    await stock('ORDERED', 'DC1', [
      [POOL, 50],
      [NORTH, 30],
      [S1, 100],
      [S2, 100],
      [S3, 100],
    ]);
    await demand('ORDERED', 'DC1', S2, 80);
    await demand('ORDERED', 'DC1', POOL, 20);
    const segments = [POOL, NORTH, S1, S2, S3];
    // 330 in the segments, 200 on the shelf: NORTH (no rule names it) gives its 30 first, then the rule's walk
    // backwards: S2 down to its 80 committed, then S1 the remaining 80; S3, first in the walk, keeps all.
    const first = await t.clients.supply.syncSupply({
      ...total('ordered-1', 'ORDERED', 'DC1', 200, secondsAgo(30)),
      skipAllocation: true,
    });
    expect(first.results[0]).toMatchObject({ quantityBefore: 50, quantityAfter: 0 });
    expect(first.allocations).toEqual([]);
    expect(await onhandOf('ORDERED', 'DC1', segments)).toEqual([0, 0, 20, 80, 100]);

    // 50 on the shelf: S1 and S3 give all they have; S2 keeps its 80 committed, 30 more than the total.
    await t.clients.supply.syncSupply({
      ...total('ordered-2', 'ORDERED', 'DC1', 50, secondsAgo(20)),
      skipAllocation: true,
    });
    expect(await onhandOf('ORDERED', 'DC1', segments)).toEqual([0, 0, 0, 80, 0]);
    const availability = async (segment: pb.SegmentKey) =>
      (
        await t.clients.availability.getNodeAvailability({
          item: item('ORDERED'),
          nodeId: 'DC1',
          segment,
          asOfTime: undefined,
        })
      ).availability;
    // The pool's own commitments have nothing left to cover them; S2's are covered by what it kept.
    expect(await availability(POOL)).toMatchObject({ available: 0, shortage: 20 });
    expect(await availability(S2)).toMatchObject({ available: 0, shortage: 0, onhandQuantity: 80 });

    // The reductions are the service's: purpose SEGMENT_ALLOCATION, parent the sync.
    const events = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 100_000 })).filter(
      (e) => e.requestId === 'ordered-1' && e.type === 'supply_changed',
    );
    const sync = events.find((e) => e.supplyChanged?.key?.segment?.segment === '')!;
    const taken = events.filter((e) => e !== sync);
    expect(taken.map((e) => [e.supplyChanged?.key?.segment?.segment, e.supplyChanged?.quantity]).sort()).toEqual([
      ['NORTH', -30],
      ['S1', -80],
      ['S2', -20],
    ]);
    for (const e of taken)
      expect(e).toMatchObject({
        auditType: pb.AuditType.AUDIT_TYPE_SYSTEM,
        actor: 'supply-sync-allocation',
        parentActionId: sync.actionId,
      });
  });

  it('skip_allocation: the pool takes the difference and no segment moves', async () => {
    await stock('SKIP', 'DC1', [[S1, 10]]);
    const answer = await t.clients.supply.syncSupply({ ...total('skip', 'SKIP', 'DC1', 100), skipAllocation: true });
    expect(answer.results[0]).toMatchObject({ quantityBefore: 0, quantityAfter: 90 });
    expect(answer.allocations).toEqual([]);
    expect(await onhandOf('SKIP', 'DC1', [POOL, S1, S2, S3])).toEqual([90, 10, 0, 0]);
  });

  it('with no rule that applies, no plan or a disabled plan, the total only sets the pool', async () => {
    // DC2: CHANNEL's rules are for DC1 only and REGION's plan has no rule there. DC3: REGION's plan is disabled.
    for (const nodeId of ['DC2', 'DC3']) {
      await stock('NOPLAN', nodeId, [
        [S1, 10],
        [NORTH, 5],
      ]);
      const answer = await t.clients.supply.syncSupply(total(`noplan-${nodeId}`, 'NOPLAN', nodeId, 100));
      expect(answer.results[0]).toMatchObject({ quantityAfter: 85 });
      expect(answer.allocations).toEqual([]);
      expect(await onhandOf('NOPLAN', nodeId, [POOL, S1, NORTH])).toEqual([85, 10, 5]);
    }
  });

  it('a stale total is ignored like any stale sync: nothing is taken and nothing allocated', async () => {
    await stock('STALE', 'DC1', [
      [POOL, 40],
      [S1, 300],
    ]);
    const answer = await t.clients.supply.syncSupply(total('stale', 'STALE', 'DC1', 100, secondsAgo(120)));
    expect(answer.results[0]).toMatchObject({
      outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
      quantityBefore: 40,
      quantityAfter: 40,
    });
    expect(answer.allocations).toEqual([]);
    expect(await onhandOf('STALE', 'DC1', [POOL, S1])).toEqual([40, 300]);
  });

  it("a total splits against the request's own segment lines, and results keep the request's order", async () => {
    const answer = await t.clients.supply.syncSupply({
      requestId: 'mixed',
      skipAllocation: true,
      lines: [
        { key: onhandKey('MIXED', 'DC2', POOL), quantity: 100, sourceTime: secondsAgo(5), physicalTotal: true },
        { key: onhandKey('MIXED', 'DC2', S1), quantity: 30, sourceTime: secondsAgo(5) },
      ],
    });
    expect(answer.results.map((r) => [r.key?.segment?.segment, r.quantityAfter])).toEqual([
      ['', 70],
      ['S1', 30],
    ]);
  });

  it('a count taken before later moves and deltas counts them once: the total is brought forward to now', async () => {
    // Pool 1000 as of a minute ago, then a first total allocates it: the moves are dated now.
    await stock('COUNTED', 'DC1', [[POOL, 1000]]);
    await t.clients.supply.syncSupply(total('counted-1', 'COUNTED', 'DC1', 1000, secondsAgo(50)));
    expect(await onhandOf('COUNTED', 'DC1', [POOL, S1, S2, S3])).toEqual([100, 400, 300, 200]);
    // A sale in S1 the source system dates 20 seconds ago.
    await t.clients.supply.adjustSupply({
      requestId: 'counted-sale',
      lines: [{ key: onhandKey('COUNTED', 'DC1', S1), quantityDelta: -10, sourceTime: secondsAgo(20), reason: 'SALE' }],
    });
    // A count of 1000 taken 40 seconds ago saw neither the allocation's moves nor the sale: 990 are there now.
    const answer = await t.clients.supply.syncSupply(total('counted-2', 'COUNTED', 'DC1', 1000, secondsAgo(40)));
    expect(answer.results[0]).toMatchObject({ quantityBefore: 100, quantityAfter: 100 });
    const after = await onhandOf('COUNTED', 'DC1', [POOL, S1, S2, S3]);
    expect(after.reduce((a, b) => a + b, 0)).toBe(990);
    expect(after).toEqual([99, 396, 300, 195]);
  });

  it('refuses physical_total on a segment key, naming the field, and changes nothing', async () => {
    const before = await rowCounts(t.database);
    const err = await grpcError(
      t.clients.supply.syncSupply({
        requestId: 'bad-total',
        lines: [
          { key: onhandKey('BAD', 'DC1', POOL), quantity: 5, sourceTime: secondsAgo(5), physicalTotal: true },
          { key: onhandKey('BAD', 'DC1', S1), quantity: 5, sourceTime: secondsAgo(5), physicalTotal: true },
        ],
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(err).errorInfo?.metadata.field).toBe('lines[1].physical_total');
    expect(await rowCounts(t.database)).toEqual(before);
  });
});
