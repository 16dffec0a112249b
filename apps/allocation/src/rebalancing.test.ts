import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { inTransaction, readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { createNodes, defineSegments } from './testing/stock';
import {
  grpcError,
  promisify,
  rowCounts,
  startTestService,
  type Promisified,
  type TestService,
} from './testing/harness';
import { fixed, POOL, seg, share } from './testing/plans';

const item = (itemId: string, productClass = 'SHOES'): pb.ItemKey => ({ itemId, unitOfMeasure: 'EA', productClass });
const onhandKey = (itemId: string, nodeId: string, segment: pb.SegmentKey): pb.SupplyKey => ({
  item: item(itemId),
  nodeId,
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

/** DESIGN's worked example: Segment1 40 % min 100, Unsegmented 10 %, Segment2 20 % min 300, Segment3 30 %. */
const designRule: pb.AllocationRule = {
  ruleId: 'design',
  rank: 1,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: undefined },
  strategy: fixed([
    share(seg('S1'), 4000, 100),
    share(POOL, 1000),
    share(seg('S2'), 2000, 300),
    share(seg('S3'), 3000),
  ]),
};

describeEachDatabase('rebalancing', (dialect) => {
  let t: TestService;
  let rebalance: Promisified<pb.RebalanceServiceClient>;
  let plans: Promisified<pb.AllocationPlanServiceClient>;
  const closers: Array<{ close(): void }> = [];
  let syncs = 0;

  /** Sets each segment's ONHAND of an item at a node. */
  async function stock(itemId: string, nodeId: string, quantities: Array<[pb.SegmentKey, number]>) {
    await t.clients.supply.syncSupply({
      requestId: `stock-${++syncs}`,
      lines: quantities.map(([segment, quantity]) => ({
        key: onhandKey(itemId, nodeId, segment),
        quantity,
        sourceTime: new Date(Date.now() - 1000),
      })),
    });
  }

  async function onhandOf(itemId: string, nodeId: string, segment: pb.SegmentKey): Promise<number> {
    const res = await t.clients.supply.getSupply({ item: item(itemId), nodeId, segment });
    return res.supplies.reduce((sum, s) => sum + s.quantity, 0);
  }

  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_REBALANCE_INTERVAL_MS: '0', INVENTORY_REBALANCE_PAGE_SIZE: '7' });
    const rebalanceClient = new pb.RebalanceServiceClient(t.address, credentials.createInsecure());
    const planClient = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    closers.push(rebalanceClient, planClient);
    rebalance = promisify(rebalanceClient);
    plans = promisify(planClient);
    await createNodes(t.clients, ['DC1', 'DC2']);
    await defineSegments(
      t.address,
      ['S1', 'S2', 'S3'].map((s) => seg(s)),
    );
    await plans.setAllocationPlan({
      requestId: 'plan-1',
      plan: { segmentType: 'CHANNEL', version: 0, rules: [designRule], enabled: true, requestId: '' },
    });
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    await t.stop();
  });

  it("holds DESIGN's worked example: a dry run shows it, the rebalance does exactly that", async () => {
    await stock('DESIGN', 'DC1', [
      [POOL, 700],
      [seg('S1'), 200],
      [seg('S2'), 100],
    ]);
    const scope = { segmentType: 'CHANNEL', itemIds: ['DESIGN'], nodeIds: ['DC1'], actor: 'ops-jane' };
    const simulated = await rebalance.rebalance({ ...scope, requestId: '', dryRun: true, pageSize: 0, pageToken: '' });
    expect(simulated.run).toBeUndefined();
    expect(simulated.itemNodes).toHaveLength(1);
    const [shown] = simulated.itemNodes;
    expect(shown!.ruleId).toBe('design');
    expect(shown!.planVersion).toBe(1);
    const onhand = shown!.supplyTypes.find((s) => s.supplyType === pb.SupplyType.SUPPLY_TYPE_ONHAND)!;
    expect(onhand.pool).toBe(1000);
    expect(onhand.segments.map((s) => [s.segment?.segment, s.before, s.after, s.target, s.outcome])).toEqual([
      ['S1', 200, 400, 400, pb.AllocationOutcome.ALLOCATION_OUTCOME_TARGET],
      ['', 700, 100, 100, pb.AllocationOutcome.ALLOCATION_OUTCOME_TARGET],
      ['S2', 100, 300, 300, pb.AllocationOutcome.ALLOCATION_OUTCOME_TARGET],
      ['S3', 0, 200, 300, pb.AllocationOutcome.ALLOCATION_OUTCOME_NOTHING_LEFT],
    ]);
    expect(await onhandOf('DESIGN', 'DC1', POOL)).toBe(700); // the dry run moved nothing

    const applied = await rebalance.rebalance({
      ...scope,
      requestId: 'design-1',
      dryRun: false,
      pageSize: 0,
      pageToken: '',
    });
    expect(applied.run?.state).toBe(pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED);
    expect(applied.run).toMatchObject({ itemNodesTotal: 1, itemNodesDone: 1, itemNodesChanged: 1, unitsMoved: 600 });
    expect(applied.itemNodes).toEqual(simulated.itemNodes);
    expect(await Promise.all([POOL, seg('S1'), seg('S2'), seg('S3')].map((s) => onhandOf('DESIGN', 'DC1', s)))).toEqual(
      [100, 400, 300, 200],
    );

    // A retry returns the first answer and moves nothing more.
    const retried = await rebalance.rebalance({
      ...scope,
      requestId: 'design-1',
      dryRun: false,
      pageSize: 0,
      pageToken: '',
    });
    expect(retried).toEqual(applied);
    // Rebalancing again finds nothing to move.
    const again = await rebalance.rebalance({
      ...scope,
      requestId: 'design-2',
      dryRun: false,
      pageSize: 0,
      pageToken: '',
    });
    expect(again.run).toMatchObject({ itemNodesDone: 1, itemNodesChanged: 0, moves: 0 });

    // Every supply change names the run, its purpose, the rule and the participants; it is the caller's.
    const runId = applied.run!.runId;
    const events = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 100_000 })).filter(
      (e) => e.relatedActionId === runId,
    );
    const supplyChanges = events.filter((e) => e.type === 'supply_changed');
    expect(supplyChanges.length).toBeGreaterThan(0);
    for (const e of supplyChanges) {
      expect(e).toMatchObject({ auditType: pb.AuditType.AUDIT_TYPE_USER, actor: 'ops-jane', requestId: 'design-1' });
      expect(e.supplyChanged?.purpose).toBe(pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_REALLOCATION);
      expect(e.supplyChanged?.allocation).toMatchObject({ segmentType: 'CHANNEL', ruleId: 'design', planVersion: 1 });
      expect(e.supplyChanged?.allocation?.supplyType?.segments).toEqual(onhand.segments);
    }
    const delta = supplyChanges.reduce((sum, e) => sum + e.supplyChanged!.quantity, 0);
    expect(delta).toBe(0);
    // The ledger records the same: one row per supply change, with the run, purpose, actor and allocation.
    const ledger: Array<Record<string, unknown>> = await t.database.db
      .knex('supply_ledger')
      .where({ related_action_id: runId })
      .orderBy('ledger_id');
    expect(ledger).toHaveLength(supplyChanges.length);
    for (const row of ledger) {
      expect(row).toMatchObject({
        purpose: 'SEGMENT_REALLOCATION',
        audit_type: 'USER',
        actor: 'ops-jane',
        request_id: 'design-1',
        parent_action_id: '',
      });
      expect(JSON.parse(row.allocation as string)).toMatchObject({ ruleId: 'design', planVersion: 1 });
    }
    const moved = new Set(
      events
        .filter((e) => e.type === 'position_availability_changed')
        .map((e) => e.positionAvailabilityChanged?.segment?.segment),
    );
    expect(moved).toEqual(new Set(['', 'S1', 'S2', 'S3']));
  });

  it('works through a scope larger than a call in the background, page by page, and can be read and listed', async () => {
    const items = Array.from({ length: 120 }, (_, i) => `BULK-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < items.length; i += 40)
      await t.clients.supply.syncSupply({
        requestId: `bulk-${i}`,
        lines: items
          .slice(i, i + 40)
          .map((id) => ({ key: onhandKey(id, 'DC1', POOL), quantity: 1000, sourceTime: new Date() })),
      });
    const started = await rebalance.rebalance({
      requestId: 'bulk-run',
      segmentType: 'CHANNEL',
      itemIds: items,
      nodeIds: [],
      dryRun: false,
      actor: '',
      pageSize: 0,
      pageToken: '',
    });
    expect(started.run).toMatchObject({ state: pb.RebalanceRunState.REBALANCE_RUN_STATE_RUNNING, itemNodesTotal: 120 });
    expect(started.itemNodes).toEqual([]);
    await t.service.rebalanceRuns.advanceOnce();
    const { run } = await rebalance.getRebalanceRun({ runId: started.run!.runId });
    expect(run).toMatchObject({
      state: pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED,
      itemNodesDone: 120,
      itemNodesChanged: 120,
    });
    expect(run?.finishTime).toBeDefined();
    for (const id of [items[0]!, items[119]!])
      expect(await Promise.all([POOL, seg('S1'), seg('S2'), seg('S3')].map((s) => onhandOf(id, 'DC1', s)))).toEqual([
        100, 400, 300, 200,
      ]);
    const listed = await rebalance.listRebalanceRuns({
      segmentType: 'CHANNEL',
      state: pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED,
      pageSize: 1,
      pageToken: '',
    });
    expect(listed.runs[0]?.runId).toBe(run?.runId);
    expect(listed.nextPageToken).not.toBe('');
  });

  it('a cancelled run stops where it was and keeps what it did', async () => {
    const items = Array.from({ length: 101 }, (_, i) => `CANCEL-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < items.length; i += 60)
      await t.clients.supply.syncSupply({
        requestId: `cancel-${i}`,
        lines: items
          .slice(i, i + 60)
          .map((id) => ({ key: onhandKey(id, 'DC2', POOL), quantity: 10, sourceTime: new Date() })),
      });
    // A run of the service's own, which nothing advances until the worker's next round.
    const started = await inTransaction(t.service.db, (trx) =>
      t.service.rebalanceRuns.startSystemRun(
        trx,
        Date.now(),
        { segmentType: 'CHANNEL', itemIds: items, nodeIds: ['DC2'] },
        'SCHEDULED',
        'scheduled-rebalance',
      ),
    );
    expect(started).toMatchObject({ state: 'RUNNING', itemNodesTotal: 101 });
    const { run } = await rebalance.cancelRebalanceRun({ runId: started.runId });
    expect(run?.state).toBe(pb.RebalanceRunState.REBALANCE_RUN_STATE_CANCELLED);
    await t.service.rebalanceRuns.advanceOnce();
    const after = await rebalance.getRebalanceRun({ runId: started.runId });
    expect(after.run).toMatchObject({ state: pb.RebalanceRunState.REBALANCE_RUN_STATE_CANCELLED, itemNodesDone: 0 });
    expect((await rebalance.cancelRebalanceRun({ runId: started.runId })).run).toEqual(after.run);
  });

  it('refuses bad requests with named fields and changes nothing', async () => {
    const before = await rowCounts(t.database);
    const base = {
      requestId: 'bad',
      segmentType: 'CHANNEL',
      itemIds: [],
      nodeIds: [],
      dryRun: false,
      actor: '',
      pageSize: 0,
      pageToken: '',
    };
    const missing = await grpcError(rebalance.rebalance({ ...base, requestId: '' }));
    expect(missing.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(missing).errorInfo?.metadata.field).toBe('request_id');
    const token = await grpcError(rebalance.rebalance({ ...base, pageToken: 'x' }));
    expect(errorDetails(token).errorInfo?.metadata.field).toBe('page_token');
    const noType = await grpcError(rebalance.rebalance({ ...base, segmentType: 'NOPE' }));
    expect(noType.code).toBe(status.NOT_FOUND);
    expect(errorDetails(noType).errorInfo?.reason).toBe('SEGMENT_TYPE_NOT_FOUND');
    const unknownRun = await grpcError(rebalance.getRebalanceRun({ runId: 'no-such-run' }));
    expect(errorDetails(unknownRun).errorInfo?.reason).toBe('REBALANCE_RUN_NOT_FOUND');
    expect(await rowCounts(t.database)).toEqual(before);
  });
});
