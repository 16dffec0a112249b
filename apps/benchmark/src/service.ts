/**
 * The target itself: the real allocation service, built by `allocation:build`, run as a child process on
 * a fresh MariaDB database, seeded and driven through its public gRPC API with the generated clients, and
 * checked afterwards straight in its database.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Channel } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  ConsumptionRuleServiceClient,
  healthV1,
  NodeServiceClient,
  NodeType,
  ReservationServiceClient,
  SegmentServiceClient,
  SegmentState,
  SupplyServiceClient,
  SupplyType,
  type SupplySyncLine,
} from '@inventory/contracts';
import { check, type Check } from './check';
import { freePort, sleep, spawnNodeServer, type ChildServer } from './child-server';
import type { Scenario } from './flags';
import { callUnary, clientOn, describeGrpcFailure, openChannel, type ClientConstructor } from './grpc-client';
import { runClosedLoop, type LoadPlan, type LoadResult } from './load';
import { checkLoans } from './loan-checks';
import { connect } from './mysql';
import { reserveRequest } from './reserve-messages';
import { BORROWING_SEGMENT, INITIAL_STOCK, itemNodeCount, pickItemNode, SPREAD_ITEMS } from './scenario';
import { readStatementCounts, statementsPerCall, type StatementCounts } from './statement-counts';

/** The database the service runs on; dropped and created afresh by every run. */
export const SERVICE_DATABASE = 'inventory_bench';

/** How many successful reservation ids are looked up one by one after a run. */
const SPOT_CHECKS = 1000;

/** The most supply lines one SyncSupply call may carry. */
const SYNC_BATCH = 1000;

export interface ServiceSettings {
  /** The MariaDB server, without a database name. */
  readonly mysqlUrl: string;
  /** INVENTORY_DATABASE_POOL_SIZE for the service. */
  readonly poolSize: number;
  /** The service bundle to run; by default the one `allocation:build` wrote beside this benchmark. */
  readonly entry?: string;
  /** More of the service's configuration (e.g. INVENTORY_REBALANCE_PAGE_SIZE). */
  readonly env?: Readonly<Record<string, string>>;
  /** Start it with the GC hook (see spawnNodeServer), for memory readings. */
  readonly gcHook?: boolean;
}

/** The running service with clients on one shared channel. */
export class ServiceUnderTest {
  private readonly nodes: NodeServiceClient;
  private readonly supply: SupplyServiceClient;
  private readonly reservations: ReservationServiceClient;
  private readonly segments: SegmentServiceClient;
  private readonly consumptionRules: ConsumptionRuleServiceClient;
  /** Distinguishes this run's ids from any earlier run's. */
  private readonly runTag = Date.now().toString(36);

  private constructor(
    private readonly settings: ServiceSettings,
    private readonly server: ChildServer,
    private readonly channel: Channel,
    /** host:port the service listens on. */
    readonly address: string,
  ) {
    this.nodes = clientOn(NodeServiceClient, channel);
    this.supply = clientOn(SupplyServiceClient, channel);
    this.reservations = clientOn(ReservationServiceClient, channel);
    this.segments = clientOn(SegmentServiceClient, channel);
    this.consumptionRules = clientOn(ConsumptionRuleServiceClient, channel);
  }

  /**
   * Creates the service's database afresh, starts the service bundle (`dist/apps/allocation/main.js`
   * unless the settings name another) on a free port (it
   * migrates its schema on start) and waits until the gRPC health check says SERVING.
   */
  static async start(settings: ServiceSettings): Promise<ServiceUnderTest> {
    // This bundle lives in dist/apps/benchmark; the service's, built by allocation:build, next to it.
    const entry = settings.entry ?? join(__dirname, '..', 'allocation', 'main.js');
    if (!existsSync(entry))
      throw new Error(`${entry} is missing: build the service first (npx nx run allocation:build)`);
    const admin = await connect(settings.mysqlUrl);
    try {
      await admin.query(`DROP DATABASE IF EXISTS \`${SERVICE_DATABASE}\``);
      await admin.query(`CREATE DATABASE \`${SERVICE_DATABASE}\` CHARACTER SET utf8mb4`);
    } finally {
      await admin.end();
    }

    const address = `127.0.0.1:${await freePort()}`;
    const server = spawnNodeServer(
      'allocation',
      [entry],
      {
        INVENTORY_DATABASE_URL: `${settings.mysqlUrl}/${SERVICE_DATABASE}`,
        INVENTORY_GRPC_ADDRESS: address,
        INVENTORY_LOG_LEVEL: 'warn',
        INVENTORY_DATABASE_POOL_SIZE: String(settings.poolSize),
        ...settings.env,
      },
      { gcHook: settings.gcHook },
    );
    const channel = openChannel(address);
    const giveUp = new AbortController();
    const serving = waitUntilServing(channel, 60_000, giveUp.signal);
    serving.catch(() => undefined); // If the server dies first, the race reports that; this one just stops.
    try {
      await Promise.race([serving, server.died]);
    } catch (err) {
      giveUp.abort();
      channel.close();
      await server.stop();
      throw err;
    }
    return new ServiceUnderTest(settings, server, channel, address);
  }

  /**
   * Creates the scenario's nodes and gives each of its item-nodes {@link INITIAL_STOCK} units ONHAND in the
   * unsegmented pool. For hot-borrow it also defines the borrowing segment, which gets no supply, and
   * switches borrowing on for it without a cap or floor.
   */
  async seed(scenario: Scenario): Promise<void> {
    if (scenario === 'hot-borrow') await this.defineBorrowingSegment();
    const keys = Array.from({ length: itemNodeCount(scenario) }, (_, i) => itemNodeKey(scenario, i));
    const nodeIds = [...new Set(keys.map((k) => k.nodeId))];
    const createNode = this.nodes.createNode.bind(this.nodes);
    for (const nodeId of nodeIds) {
      await callUnary(createNode, {
        requestId: `seed-${this.runTag}-node-${nodeId}`,
        node: { nodeId, nodeType: NodeType.NODE_TYPE_DC, description: `benchmark ${scenario}`, createTime: undefined },
      });
    }
    const syncSupply = this.supply.syncSupply.bind(this.supply);
    for (let first = 0; first < keys.length; first += SYNC_BATCH) {
      const lines: SupplySyncLine[] = keys.slice(first, first + SYNC_BATCH).map(({ itemId, nodeId }) => ({
        key: {
          item: { itemId, unitOfMeasure: '', productClass: '' },
          nodeId,
          segment: { segmentType: '', segment: '' },
          supplyType: SupplyType.SUPPLY_TYPE_ONHAND,
          etaTime: undefined,
        },
        quantity: INITIAL_STOCK,
        sourceTime: new Date(),
      }));
      await callUnary(syncSupply, { requestId: `seed-${this.runTag}-${scenario}-supply-${first}`, lines });
    }
  }

  /** Defines {@link BORROWING_SEGMENT} and lets it borrow from the pool (SegmentService, ConsumptionRuleService). */
  private async defineBorrowingSegment(): Promise<void> {
    const { segmentType, segment } = BORROWING_SEGMENT;
    await callUnary(this.segments.createSegmentType.bind(this.segments), {
      requestId: `seed-${this.runTag}-segment-type`,
      segmentType: { segmentType, description: 'benchmark', createTime: undefined },
    });
    await callUnary(this.segments.createSegment.bind(this.segments), {
      requestId: `seed-${this.runTag}-segment`,
      segment: {
        segmentType,
        segment,
        description: 'borrows every unit it reserves',
        state: SegmentState.SEGMENT_STATE_UNSPECIFIED,
        createTime: undefined,
        updateTime: undefined,
        retireTime: undefined,
      },
    });
    await callUnary(this.consumptionRules.setConsumptionRules.bind(this.consumptionRules), {
      requestId: `seed-${this.runTag}-consumption-rules`,
      borrowingEnabled: true,
      segments: [{ segment: { segmentType, segment }, mayBorrow: true }],
    });
  }

  /** Reserves one unit per call from the scenario's item-nodes, then checks the database. */
  async measure(scenario: Scenario, plan: LoadPlan): Promise<{ load: LoadResult; checks: Check[] }> {
    const count = itemNodeCount(scenario);
    const idPrefix = `bench-${this.runTag}-${scenario}-`;
    const reserve = this.reservations.reserve.bind(this.reservations);
    const reserved: string[] = [];
    const segment = scenario === 'hot-borrow' ? BORROWING_SEGMENT : undefined;
    // The server's CPU time, and the statements the database ran, at the start and the end of the measured
    // window. The readings are awaited, never cancelled: one that comes due just as the load ends still counts.
    const status = await connect(this.settings.mysqlUrl);
    let measured: LoadResult;
    let edges: Array<{ cpu: number | undefined; statements: StatementCounts | undefined }>;
    try {
      const readings = [plan.warmupSeconds, plan.warmupSeconds + plan.seconds].map(
        (s) =>
          new Promise<{ cpu: number | undefined; statements: StatementCounts | undefined }>((resolve) =>
            setTimeout(() => {
              const cpu = this.server.cpuSeconds();
              readStatementCounts(status).then(
                (statements) => resolve({ cpu, statements }),
                () => resolve({ cpu, statements: undefined }),
              );
            }, s * 1000),
          ),
      );
      measured = await runClosedLoop(
        plan,
        async (caller, sequence) => {
          const { itemId, nodeId } = itemNodeKey(scenario, pickItemNode(count));
          const reservationId = `${idPrefix}${caller}-${sequence}`;
          await callUnary(reserve, reserveRequest(reservationId, itemId, nodeId, segment));
          reserved.push(reservationId);
        },
        describeGrpcFailure,
      );
      edges = await Promise.all(readings);
    } finally {
      await status.end();
    }
    const [from, until] = edges;
    const load: LoadResult = {
      ...measured,
      ...(from?.cpu !== undefined &&
        until?.cpu !== undefined &&
        measured.successes > 0 && { serverCpuMsPerCall: ((until.cpu - from.cpu) * 1000) / measured.successes }),
      ...(from?.statements &&
        until?.statements &&
        measured.successes > 0 && {
          databasePerCall: statementsPerCall(from.statements, until.statements, measured.successes),
        }),
    };
    const db = await connect(this.settings.mysqlUrl, SERVICE_DATABASE);
    try {
      const checks = await checkReservationsStored(db, {
        idPrefix,
        successes: load.totalSuccesses,
        sample: sample(reserved, SPOT_CHECKS),
      });
      if (scenario === 'hot-borrow') checks.push(...(await checkLoans(db, { borrowed: load.totalSuccesses })));
      return { load, checks: checks.map((c) => ({ ...c, name: `service ${scenario}: ${c.name}` })) };
    } catch (err) {
      return {
        load,
        checks: [check(`service ${scenario}: database checks`, false, `could not run: ${(err as Error).message}`)],
      };
    } finally {
      await db.end();
    }
  }

  /** A client of another of the service's APIs, on the shared channel. */
  client<C>(Client: ClientConstructor<C>): C {
    return clientOn(Client, this.channel);
  }

  /** CPU seconds the service process has used so far; undefined where /proc cannot say. */
  cpuSeconds(): number | undefined {
    return this.server.cpuSeconds();
  }

  /** The service process's resident set size in bytes; undefined where /proc cannot say. */
  rssBytes(): number | undefined {
    return this.server.rssBytes();
  }

  /** A full GC in the service process and its memory usage after it; needs the `gcHook` setting. */
  collectGarbage(): Promise<NodeJS.MemoryUsage | undefined> {
    return this.server.collectGarbage();
  }

  /** Stops the service (SIGTERM: it drains and exits) and closes the channel. */
  async stop(): Promise<void> {
    // Closing the channel closes every client on it (closing a client would close the shared channel too).
    this.channel.close();
    await this.server.stop();
  }
}

/**
 * The service's side of "nothing oversold, every success is in the database", written against the
 * reservation store's schema: `reservations(reservation_id)`, `reservation_holds(reservation_id, node_id,
 * item_id, quantity, state)` with held units in state 'HELD', and `supply(item_id, node_id, supply_type,
 * quantity)`. Whoever changes those tables adjusts the SQL here. Every reservation of the run holds one
 * unit and its id starts with `idPrefix`.
 */
export async function checkReservationsStored(
  db: Connection,
  run: { readonly idPrefix: string; readonly successes: number; readonly sample: readonly string[] },
): Promise<Check[]> {
  const like = `${run.idPrefix}%`;
  const [[stored]] = await db.query<CountRow[]>('SELECT COUNT(*) AS n FROM reservations WHERE reservation_id LIKE ?', [
    like,
  ]);
  let found = 0;
  if (run.sample.length > 0) {
    const [[row]] = await db.query<CountRow[]>('SELECT COUNT(*) AS n FROM reservations WHERE reservation_id IN (?)', [
      run.sample,
    ]);
    found = Number(row.n);
  }
  const [[held]] = await db.query<CountRow[]>(
    "SELECT COALESCE(SUM(quantity), 0) AS n FROM reservation_holds WHERE state = 'HELD' AND reservation_id LIKE ?",
    [like],
  );
  // Any item-node whose held units exceed its ONHAND supply is oversold.
  const [oversold] = await db.query<OversoldRow[]>(
    `SELECT h.item_id, h.node_id, h.held, COALESCE(s.onhand, 0) AS onhand
       FROM (SELECT item_id, node_id, SUM(quantity) AS held FROM reservation_holds WHERE state = 'HELD' GROUP BY item_id, node_id) h
       LEFT JOIN (SELECT item_id, node_id, SUM(quantity) AS onhand FROM supply WHERE supply_type = 'ONHAND' GROUP BY item_id, node_id) s
         ON s.item_id = h.item_id COLLATE utf8mb4_bin AND s.node_id = h.node_id COLLATE utf8mb4_bin
      WHERE h.held > COALESCE(s.onhand, 0)
      LIMIT 10`,
  );
  return [
    check(
      'reservations stored = successes',
      Number(stored.n) === run.successes,
      `${stored.n} stored, ${run.successes} successes`,
    ),
    check('spot check of successful ids', found === run.sample.length, `${found} of ${run.sample.length} found`),
    check('HELD units = successes', Number(held.n) === run.successes, `${held.n} held, ${run.successes} successes`),
    check(
      'HELD <= ONHAND per item-node (nothing oversold)',
      oversold.length === 0,
      oversold.length === 0
        ? 'no item-node oversold'
        : oversold.map((r) => `${r.item_id}@${r.node_id}: ${r.held} held > ${r.onhand}`).join('; '),
    ),
  ];
}

interface CountRow extends RowDataPacket {
  n: number | string;
}

interface OversoldRow extends RowDataPacket {
  item_id: string;
  node_id: string;
  held: number | string;
  onhand: number | string;
}

/** The scenario's i-th item-node: hot and hot-borrow have one; spread has item i % 100 at node i / 100. */
function itemNodeKey(scenario: Scenario, index: number): { itemId: string; nodeId: string } {
  if (scenario !== 'spread') return { itemId: 'HOT_ITEM', nodeId: 'HOT_NODE' };
  const pad = (n: number) => String(n).padStart(3, '0');
  return { itemId: `ITEM_${pad(index % SPREAD_ITEMS)}`, nodeId: `NODE_${pad(Math.floor(index / SPREAD_ITEMS))}` };
}

/** Polls grpc.health.v1.Health/Check until the whole server reports SERVING (or `giveUp` aborts). */
async function waitUntilServing(channel: Channel, timeoutMs: number, giveUp: AbortSignal): Promise<void> {
  const health = clientOn(healthV1.HealthClient, channel);
  const check = health.check.bind(health);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const answer = await callUnary(check, { service: '' });
      if (answer.status === healthV1.HealthCheckResponse_ServingStatus.SERVING) return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`the service did not become SERVING within ${timeoutMs / 1000} s: ${describeGrpcFailure(err)}`);
    }
    if (Date.now() > deadline) throw new Error(`the service did not become SERVING within ${timeoutMs / 1000} s`);
    if (giveUp.aborted) throw new Error('stopped waiting for the service');
    await sleep(200);
  }
}

/** Up to `size` distinct elements picked at random. */
function sample<T>(all: readonly T[], size: number): T[] {
  const copy = [...all];
  for (let i = 0; i < Math.min(size, copy.length); i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, size);
}
