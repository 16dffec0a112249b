import { randomUUID } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { ChangeEvent } from '@inventory/contracts/events';
import { createLogger } from '@inventory/runtime';
import { inTransaction, readOutbox, readRebalanceSchedule } from '@inventory/store';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '@inventory/store/testing';
import { startAllocationService, type RunningService } from './allocation-service';
import { loadConfig } from './config';
import { holdOutboxEvent } from './testing/held-outbox';
import { connectClients, promisify, type Clients, type Promisified } from './testing/harness';
import { createNodes, defineSegments } from './testing/stock';

/**
 * The rebalances the service starts on its own: on a plan's schedule (kept across restarts, started once
 * however many schedulers look at once) and when a segment's availability reaches zero while another
 * participant of its rule holds more than its target (debounced per item-node, off with triggers_enabled
 * false). The service runs on a clock the test moves forward; its scheduler, detector and run worker only
 * run when the test asks.
 */

const MINUTE = 60_000;
const DEBOUNCE_MS = 60_000;
const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const ONLINE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'ONLINE' };
const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: 'EA', productClass: '' });

/** At DC1, STORE and ONLINE get half each of every pool; the unsegmented pool gets nothing. */
const halves: pb.AllocationRule = {
  ruleId: 'halves',
  rank: 1,
  conditions: { itemIds: [], nodeIds: ['DC1'], productClass: undefined },
  strategy: {
    fixed: {},
    segments: [
      { segment: STORE, basisPoints: 5000 },
      { segment: ONLINE, basisPoints: 5000 },
    ],
    window: undefined,
  },
};

/** A running service with its clients; restarted on the same database by `restart`. */
interface Running {
  readonly service: RunningService;
  readonly clients: Clients;
  readonly plans: Promisified<pb.AllocationPlanServiceClient>;
  readonly rebalance: Promisified<pb.RebalanceServiceClient>;
  close(): Promise<void>;
}

describeEachDatabase('rebalance triggers', (dialect) => {
  let database: TestDatabase;
  let t: Running;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  async function start(): Promise<Running> {
    const config = loadConfig({
      INVENTORY_DATABASE_URL: database.url,
      INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
      INVENTORY_DATABASE_POOL_SIZE: '10',
      INVENTORY_SHUTDOWN_GRACE_MS: '2000',
      INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_TRIGGER_DEBOUNCE_MS: String(DEBOUNCE_MS),
    });
    const service = await startAllocationService(config, createLogger('triggers-test', 'silent'), clock);
    const address = `127.0.0.1:${service.port}`;
    const channel = connectClients(address);
    const planClient = new pb.AllocationPlanServiceClient(address, credentials.createInsecure());
    const rebalanceClient = new pb.RebalanceServiceClient(address, credentials.createInsecure());
    return {
      service,
      clients: channel.clients,
      plans: promisify(planClient),
      rebalance: promisify(rebalanceClient),
      close: async () => {
        channel.close();
        planClient.close();
        rebalanceClient.close();
        await service.stop();
      },
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    t = await start();
    await createNodes(t.clients, ['DC1']);
    await defineSegments(`127.0.0.1:${t.service.port}`, [STORE, ONLINE]);
  });
  afterAll(async () => {
    await t.close();
    await database.drop();
  });

  let plans = 0;
  async function setPlan(changes: Partial<pb.AllocationPlan>): Promise<void> {
    await t.plans.setAllocationPlan({
      requestId: `plan-${++plans}`,
      plan: {
        segmentType: 'CHANNEL',
        version: 0,
        rules: [halves],
        rebalanceEvery: { seconds: 60, nanos: 0 },
        triggersEnabled: true,
        enabled: true,
        requestId: '',
        ...changes,
      },
    });
  }

  let syncs = 0;
  /** Sets the ONHAND of an item at DC1 per segment, as of the service's now. */
  async function stock(itemId: string, quantities: Array<[pb.SegmentKey, number]>): Promise<void> {
    syncs++;
    await t.clients.supply.syncSupply({
      requestId: `stock-${syncs}`,
      lines: quantities.map(([segment, quantity]) => ({
        key: {
          item: item(itemId),
          nodeId: 'DC1',
          segment,
          supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
          etaTime: undefined,
        },
        quantity,
        // Strictly later than the sync before, so that no sync is taken for an old one.
        sourceTime: new Date(clock() + syncs),
      })),
    });
  }

  async function onhand(itemId: string, segment: pb.SegmentKey): Promise<number> {
    const res = await t.clients.supply.getSupply({ item: item(itemId), nodeId: 'DC1', segment });
    return res.supplies.reduce((sum, s) => sum + s.quantity, 0);
  }

  async function runs(trigger: pb.RebalanceTrigger): Promise<pb.RebalanceRun[]> {
    const { runs: all } = await t.rebalance.listRebalanceRuns({
      segmentType: 'CHANNEL',
      state: pb.RebalanceRunState.REBALANCE_RUN_STATE_UNSPECIFIED,
      pageSize: 1000,
      pageToken: '',
    });
    return all.filter((r) => r.trigger === trigger);
  }
  const scheduled = () => runs(pb.RebalanceTrigger.REBALANCE_TRIGGER_SCHEDULED);
  const detected = async () =>
    (await runs(pb.RebalanceTrigger.REBALANCE_TRIGGER_SYSTEM_DETECTED)).filter(
      (r) => r.actor === 'system-detected-rebalance',
    );
  const outboxOf = async (runId: string) =>
    (await readOutbox({ db: database.db.knex, afterSequence: 0, limit: 100_000 })).filter(
      (e) => e.relatedActionId === runId,
    );
  const nextRunMs = async () =>
    (await readRebalanceSchedule({ db: database.db.knex, segmentType: 'CHANNEL' }))?.nextRunMs;

  describe('scheduled', () => {
    it('runs a plan rebalance_every after it was set, over the whole segment type, and then again an interval later', async () => {
      await stock('SCHED', [
        [STORE, 0],
        [ONLINE, 100],
      ]);
      await setPlan({});
      const setAt = clock();
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);
      expect(await nextRunMs()).toBeGreaterThanOrEqual(setAt + MINUTE);

      offsetMs += MINUTE / 2;
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);
      expect(await scheduled()).toEqual([]);

      offsetMs += MINUTE / 2 + 1000;
      const dueAt = clock();
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(1);
      await t.service.rebalanceRuns.advanceOnce();
      const [run] = await scheduled();
      expect(run).toMatchObject({
        state: pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED,
        itemIds: [],
        nodeIds: [],
        actor: 'scheduled-rebalance',
        itemNodesChanged: 1,
      });
      expect([await onhand('SCHED', STORE), await onhand('SCHED', ONLINE)]).toEqual([50, 50]);
      expect(await nextRunMs()).toBeGreaterThanOrEqual(dueAt + MINUTE);
      // The service's own change: audit type SYSTEM, the job as actor, no request.
      const moves = (await outboxOf(run!.runId)).filter((e) => e.type === 'supply_changed');
      expect(moves).toHaveLength(2);
      for (const e of moves)
        expect(e).toMatchObject({
          auditType: pb.AuditType.AUDIT_TYPE_SYSTEM,
          actor: 'scheduled-rebalance',
          requestId: '',
        });

      // Not due again until an interval after the run started.
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);
      expect(await scheduled()).toHaveLength(1);
    });

    it('keeps the next run time across a restart on the same database', async () => {
      const before = await nextRunMs();
      await t.close();
      offsetMs += MINUTE / 2;
      t = await start();
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);
      expect(await nextRunMs()).toBe(before);

      // Due at the time kept, not a full interval after the restart.
      offsetMs = before! - Date.now() + 1;
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(1);
      await t.service.rebalanceRuns.advanceOnce();
      expect(await scheduled()).toHaveLength(2);
    });

    it('waits while a run of the segment type is RUNNING, and starts when it has ended', async () => {
      offsetMs = (await nextRunMs())! - Date.now() + 1;
      const requested = await inTransaction(t.service.db, (trx) =>
        t.service.rebalanceRuns.startSystemRun(
          trx,
          clock(),
          { segmentType: 'CHANNEL', itemIds: ['SCHED'], nodeIds: [] },
          'SYSTEM_DETECTED',
          'test',
        ),
      );
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);
      await t.rebalance.cancelRebalanceRun({ runId: requested.runId });
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(1);
      await t.service.rebalanceRuns.advanceOnce();
      expect(await scheduled()).toHaveLength(3);
    });

    it('counts a shorter frequency from the change and drops the schedule of a plan without one', async () => {
      await setPlan({ rebalanceEvery: { seconds: 3600, nanos: 0 } });
      await t.service.rebalanceScheduler.scheduleOnce();
      // The run already promised a minute from the last one stays.
      const promised = (await nextRunMs())!;
      expect(promised - clock()).toBeLessThanOrEqual(MINUTE);
      await setPlan({ rebalanceEvery: { seconds: 120, nanos: 0 } });
      await t.service.rebalanceScheduler.scheduleOnce();
      expect(await nextRunMs()).toBe(promised);

      await setPlan({ rebalanceEvery: undefined });
      await t.service.rebalanceScheduler.scheduleOnce();
      expect(await nextRunMs()).toBeUndefined();
      offsetMs += 10 * MINUTE;
      expect(await t.service.rebalanceScheduler.scheduleOnce()).toBe(0);

      await setPlan({ rebalanceEvery: { seconds: 3600, nanos: 0 } });
      const setAt = clock();
      await t.service.rebalanceScheduler.scheduleOnce();
      expect(await nextRunMs()).toBeGreaterThanOrEqual(setAt + 60 * MINUTE);
      await setPlan({ rebalanceEvery: { seconds: 300, nanos: 0 } });
      const changedAt = clock();
      await t.service.rebalanceScheduler.scheduleOnce();
      const next = (await nextRunMs())!;
      expect(next).toBeGreaterThanOrEqual(changedAt + 5 * MINUTE);
      expect(next).toBeLessThan(changedAt + 6 * MINUTE);
    });

    it('starts a due run once when schedulers on two connection pools look at the same time', async () => {
      const other = await start();
      try {
        const before = (await scheduled()).length;
        offsetMs = (await nextRunMs())! - Date.now() + 1;
        const started = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? t : other).service.rebalanceScheduler.startDueRuns()),
        );
        expect(started.reduce((a, b) => a + b, 0)).toBe(1);
        expect(await scheduled()).toHaveLength(before + 1);
        await t.service.rebalanceRuns.advanceOnce();
      } finally {
        await other.close();
      }
      await setPlan({ rebalanceEvery: undefined });
      await t.service.rebalanceScheduler.scheduleOnce();
    });
  });

  describe('system-detected', () => {
    /** One detector round over what has committed: the detector reads stamped events only. */
    const detect = async () => {
      await t.service.streamSequencer.stampOnce();
      return t.service.rebalanceDetector.detectOnce();
    };
    beforeAll(async () => {
      // The detector's first look starts its reading at the end of the change stream.
      await detect();
    });

    it("rebalances an item-node when a segment's availability reaches zero while another holds more than its target", async () => {
      await stock('ZERO', [
        [STORE, 10],
        [ONLINE, 90],
      ]);
      expect(await detect()).toBe(0);

      await stock('ZERO', [[STORE, 0]]);
      expect(await detect()).toBe(1);
      await t.service.rebalanceRuns.advanceOnce();
      const [run] = await detected();
      expect(run).toMatchObject({
        state: pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED,
        itemIds: ['ZERO'],
        nodeIds: ['DC1'],
        actor: 'system-detected-rebalance',
        itemNodesTotal: 1,
        itemNodesChanged: 1,
      });
      expect([await onhand('ZERO', STORE), await onhand('ZERO', ONLINE)]).toEqual([45, 45]);
      // Read once: the same events do not start another run.
      expect(await detect()).toBe(0);
    });

    it('rebalances an item-node at most once per debounce', async () => {
      await stock('ZERO', [
        [STORE, 0],
        [ONLINE, 200],
      ]);
      expect(await detect()).toBe(0);
      expect(await detected()).toHaveLength(1);

      offsetMs += DEBOUNCE_MS;
      await stock('ZERO', [[STORE, 2]]);
      await stock('ZERO', [[STORE, 0]]);
      expect(await detect()).toBe(1);
      await t.service.rebalanceRuns.advanceOnce();
      expect([await onhand('ZERO', STORE), await onhand('ZERO', ONLINE)]).toEqual([100, 100]);
    });

    it('leaves an item-node alone where the zero segment is not short of what others hold above target', async () => {
      await stock('BALANCED', [
        [STORE, 0],
        [ONLINE, 0],
      ]);
      expect(await detect()).toBe(0);
    });

    it('does nothing when the plan sets triggers_enabled false', async () => {
      await setPlan({ rebalanceEvery: undefined, triggersEnabled: false });
      await stock('OFF', [
        [STORE, 0],
        [ONLINE, 90],
      ]);
      expect(await detect()).toBe(0);
      expect((await detected()).filter((r) => r.itemIds.includes('OFF'))).toEqual([]);
      // With no plan that triggers, the detector passes the stream over unread: its cursor is at the end.
      const knex = database.db.knex;
      await t.service.streamSequencer.stampOnce();
      const last = Number((await knex('change_stream_state').first('last_sequence')).last_sequence);
      await detect();
      expect(Number((await knex('outbox_cursors').first('after_sequence')).after_sequence)).toBe(last);
      await setPlan({ rebalanceEvery: undefined, triggersEnabled: true });
    });

    // SQLite runs one writer at a time: no transaction can commit behind a later one there.
    if (dialect === 'mysql')
      it('sees an event whose transaction committed after later events were read', async () => {
        await stock('LATE', [
          [STORE, 10],
          [ONLINE, 90],
        ]);
        await detect();
        // A transaction takes its outbox row id now and commits only after the detector has read past it.
        const late = await holdOutboxEvent(database.db, zeroEvent('LATE', STORE, clock()));
        await stock('OTHER', [[STORE, 1]]);
        expect(await detect()).toBe(0);
        await late.commit();
        expect(await detect()).toBe(1);
        expect((await detected()).filter((r) => r.itemIds.includes('LATE'))).toHaveLength(1);
      });
  });
});

/** The announcement a change makes when it leaves a segment with nothing available. */
function zeroEvent(itemId: string, segment: pb.SegmentKey, nowMs: number): ChangeEvent {
  return ChangeEvent.fromPartial({
    eventId: randomUUID(),
    type: 'position_availability_changed',
    occurTime: new Date(nowMs),
    actionId: randomUUID(),
    auditType: pb.AuditType.AUDIT_TYPE_USER,
    positionAvailabilityChanged: { item: item(itemId), nodeId: 'DC1', segment, available: 0 },
  });
}
