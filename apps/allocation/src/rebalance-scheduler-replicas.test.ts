import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { readRebalanceSchedule } from '@inventory/store';
import { MYSQL_TEST_URL } from '@inventory/store/testing';
import { promisify, startTestService, type TestService } from './testing/harness';
import { listeningPort, startProcess, type ServerProcess } from './testing/process';
import { createNodes, defineSegments } from './testing/stock';

/**
 * Scheduled rebalancing with two replicas: two server processes on one MariaDB database, each running the
 * scheduler and the run worker every 100 ms. A due schedule starts one run, not one per replica or per round,
 * and when one replica stops the other keeps the schedule.
 */

const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const ONLINE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'ONLINE' };
const INTERVAL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

(MYSQL_TEST_URL ? describe : describe.skip)(
  `scheduled rebalancing with two server processes [mysql${MYSQL_TEST_URL ? '' : ': skipped, INVENTORY_TEST_MYSQL_URL is not set'}]`,
  () => {
    let t: TestService;
    let procs: ServerProcess[] = [];
    let rebalanceClient: pb.RebalanceServiceClient;

    beforeAll(async () => {
      // The in-process service creates the schema and does the set-up; its own scheduler and worker are off.
      t = await startTestService('mysql', { INVENTORY_REBALANCE_INTERVAL_MS: '0' });
      rebalanceClient = new pb.RebalanceServiceClient(t.address, credentials.createInsecure());
      await createNodes(t.clients, ['DC1']);
      await defineSegments(t.address, [STORE, ONLINE]);
      await t.clients.supply.syncSupply({
        requestId: 'stock',
        lines: [
          [STORE, 0],
          [ONLINE, 100],
        ].map(([segment, quantity]) => ({
          key: {
            item: { itemId: 'SCHED', unitOfMeasure: 'EA', productClass: '' },
            nodeId: 'DC1',
            segment: segment as pb.SegmentKey,
            supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
            etaTime: undefined,
          },
          quantity: quantity as number,
          sourceTime: new Date(),
        })),
      });
      const plans = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
      await promisify(plans).setAllocationPlan({
        requestId: 'plan',
        plan: {
          segmentType: 'CHANNEL',
          version: 0,
          rules: [
            {
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
            },
          ],
          rebalanceEvery: { seconds: 60, nanos: 0 },
          triggersEnabled: true,
          enabled: true,
          requestId: '',
        },
      });
      plans.close();
      procs = [0, 1].map(() =>
        startProcess({
          INVENTORY_DATABASE_URL: t.database.url,
          INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
          INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: String(INTERVAL_MS),
          INVENTORY_REBALANCE_INTERVAL_MS: String(INTERVAL_MS),
        }),
      );
      await Promise.all(procs.map((p) => listeningPort(p)));
    });
    afterAll(async () => {
      rebalanceClient.close();
      for (const p of procs) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      await t.stop();
    });

    const nextRunMs = async () =>
      (await readRebalanceSchedule({ db: t.database.db.knex, segmentType: 'CHANNEL' }))?.nextRunMs;
    /** Makes the schedule due now, as if its interval had passed. */
    const makeDue = () =>
      t.database.db.knex('rebalance_schedules').where({ segment_type: 'CHANNEL' }).update({ next_run_ms: 0 });
    async function scheduledRuns(): Promise<pb.RebalanceRun[]> {
      const { runs } = await promisify(rebalanceClient).listRebalanceRuns({
        segmentType: 'CHANNEL',
        state: pb.RebalanceRunState.REBALANCE_RUN_STATE_UNSPECIFIED,
        pageSize: 100,
        pageToken: '',
      });
      return runs.filter((r) => r.trigger === pb.RebalanceTrigger.REBALANCE_TRIGGER_SCHEDULED);
    }
    const succeeded = async (count: number) => {
      const runs = await scheduledRuns();
      const done = runs.filter((r) => r.state === pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED);
      return done.length >= count ? runs : undefined;
    };

    it('runs a due schedule exactly once, then schedules it an interval later', async () => {
      // A replica's scheduler has put the plan on its schedule, a minute from its first look.
      expect(await eventually(nextRunMs)).toBeGreaterThan(Date.now() + 30_000);
      expect(await scheduledRuns()).toEqual([]);

      await makeDue();
      const dueAt = Date.now();
      await eventually(() => succeeded(1));
      // Many more rounds of both replicas' schedulers.
      await sleep(20 * INTERVAL_MS);
      const runs = await scheduledRuns();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ itemNodesChanged: 1, actor: 'scheduled-rebalance' });
      expect(await nextRunMs()).toBeGreaterThanOrEqual(dueAt + 60_000);
    });

    it('keeps the schedule when one replica stops', async () => {
      procs[0]!.child.kill('SIGTERM');
      expect(await procs[0]!.exited).toBe(0);
      await makeDue();
      await eventually(() => succeeded(2));
      await sleep(20 * INTERVAL_MS);
      expect(await scheduledRuns()).toHaveLength(2);
    });
  },
);
