import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { describeEachDatabase, positionsDisagreeingWithRows } from '@inventory/store/testing';
import {
  connectClients,
  promisify,
  startTestService,
  type Clients,
  type Promisified,
  type TestService,
} from './testing/harness';
import { listeningPort, startProcess, type ServerProcess } from './testing/process';
import { createNodes, defineSegments, item } from './testing/stock';

/**
 * Reservations keep running while the same item-nodes are rebalanced: for a few seconds, many Reserve calls
 * (in segments, borrowing from the pool, and in the pool), releases, supply adjusts and two loops of inline
 * Rebalance calls all hit one item at two nodes at once, spread over three servers on one MariaDB database
 * (the test's and two server processes; on SQLite, the test's only). No caller gets anything but a clean refusal
 * (insufficient availability) — no deadlock, abort or internal error. Read straight from the database,
 * nothing is oversold at any moment a watcher looks while the race runs, nor afterwards; afterwards every
 * position agrees with its rows, what the callers were told is what is held, and the rebalances moved units
 * without creating or losing any.
 */

const TYPE = 'CHANNEL';
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const STORE: pb.SegmentKey = { segmentType: TYPE, segment: 'STORE' };
const ONLINE: pb.SegmentKey = { segmentType: TYPE, segment: 'ONLINE' };
const MARKET: pb.SegmentKey = { segmentType: TYPE, segment: 'MARKET' };
const SEGMENTS = [STORE, ONLINE, MARKET, POOL];
const nameOf = (segment: pb.SegmentKey) => segment.segment || 'POOL';

const ITEMS = ['RACE-1'];
const NODES = ['DC1', 'DC2'];
const ITEM_NODES = ITEMS.flatMap((itemId) => NODES.map((nodeId) => ({ itemId, nodeId })));
type ItemNode = (typeof ITEM_NODES)[number];
const itemNodeName = (n: ItemNode) => `${n.itemId}@${n.nodeId}`;

/**
 * The race runs this long, and longer (up to MAX_RACE_MS) until this many rebalances have moved stock under
 * the reservations, however slow the machine.
 */
const RACE_MS = 4000;
const MAX_RACE_MS = 30_000;
const MOVING_REBALANCES = 20;
const RESERVERS = 16;
const REBALANCERS = 2;
/** Server processes besides the test's own, on MariaDB. */
const PROCESSES = 2;

/** STORE 30 % (at least 5), ONLINE 30 %, MARKET 20 %, the pool 20 %; STORE and ONLINE may borrow, MARKET may not. */
const RULE: pb.AllocationRule = {
  ruleId: 'race',
  rank: 1,
  conditions: { itemIds: ITEMS, nodeIds: [], productClass: undefined },
  strategy: {
    fixed: {},
    window: undefined,
    segments: [
      { segment: STORE, basisPoints: 3000, minimum: 5 },
      { segment: ONLINE, basisPoints: 3000 },
      { segment: MARKET, basisPoints: 2000 },
      { segment: POOL, basisPoints: 2000 },
    ],
  },
};

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const onhandKey = (n: ItemNode, segment: pb.SegmentKey): pb.SupplyKey => ({
  item: item(n.itemId),
  nodeId: n.nodeId,
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

/** A stock_positions row's figures. */
interface PositionRow {
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly loan: number;
}

describeEachDatabase('rebalancing while reservations and supply changes run', (dialect) => {
  let t: TestService;
  /** The test's server first, then the processes'. */
  let addresses: string[] = [];
  let rebalances: Array<Promisified<pb.RebalanceServiceClient>> = [];
  const procs: ServerProcess[] = [];
  const closers: Array<{ close(): void }> = [];

  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_REBALANCE_INTERVAL_MS: '0' });
    const planClient = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    const rulesClient = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    closers.push(planClient, rulesClient);
    for (let i = 0; i < (dialect === 'mysql' ? PROCESSES : 0); i++)
      procs.push(
        startProcess({
          INVENTORY_DATABASE_URL: t.database.url,
          INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
          // As in the test's own server: no work of the service's own (system-detected and scheduled
          // rebalances, expiry). A detected run that went on after the race would move stock while the checks
          // at the end read positions and rows one after the other, and they would disagree for that moment.
          INVENTORY_REBALANCE_INTERVAL_MS: '0',
          INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS: '0',
          INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: '0',
          INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
        }),
      );
    const ports = await Promise.all(procs.map((p) => listeningPort(p)));
    addresses = [t.address, ...ports.map((port) => `127.0.0.1:${port}`)];
    rebalances = addresses.map((address) => {
      const client = new pb.RebalanceServiceClient(address, credentials.createInsecure());
      closers.push(client);
      return promisify(client);
    });
    await createNodes(t.clients, NODES);
    await defineSegments(t.address, [STORE, ONLINE, MARKET]);
    await promisify(rulesClient).setConsumptionRules({
      requestId: 'rules',
      borrowingEnabled: true,
      segments: [
        { segment: STORE, mayBorrow: true },
        { segment: ONLINE, mayBorrow: true },
      ],
    });
    await promisify(planClient).setAllocationPlan({
      requestId: 'plan',
      plan: { segmentType: TYPE, version: 0, rules: [RULE], enabled: true, requestId: '' },
    });
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await t.stop();
  });

  it('refuses only cleanly, oversells nothing and conserves every unit the rebalances move', async () => {
    // Uneven, so that the first rebalances move stock while the reservations start taking it.
    const synced = new Map(ITEM_NODES.map((n) => [itemNodeName(n), 0]));
    await t.clients.supply.syncSupply({
      requestId: 'stock',
      lines: ITEM_NODES.flatMap((n) =>
        (
          [
            [POOL, 30],
            [STORE, 8],
            [MARKET, 4],
          ] as const
        ).map(([segment, quantity]) => {
          synced.set(itemNodeName(n), synced.get(itemNodeName(n))! + quantity);
          return { key: onhandKey(n, segment), quantity, sourceTime: new Date(Date.now() - 1000) };
        }),
      ),
    });

    const outcomes = new Map<string, number>();
    /** Runs a call, counting its outcome ("Rpc OK" or "Rpc CODE REASON"); the answer, or undefined if it failed. */
    async function counted<T>(rpc: string, call: Promise<T>): Promise<T | undefined> {
      let outcome = `${rpc} OK`;
      try {
        return await call;
      } catch (err) {
        const e = err as ServiceError;
        outcome = `${rpc} ${status[e.code]} ${errorDetails(e).errorInfo?.reason ?? e.details}`;
        return undefined;
      } finally {
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }

    let movingRebalances = 0;
    const runStates = new Set<pb.RebalanceRunState>();
    const startMs = Date.now();
    const racing = () => {
      const ms = Date.now() - startMs;
      return ms < RACE_MS || (ms < MAX_RACE_MS && movingRebalances < MOVING_REBALANCES);
    };
    const channels = Array.from({ length: 4 }, (_, i) => connectClients(addresses[i % addresses.length]!));
    /** Units held by the reservations granted and not released, per item-node, as the callers were told. */
    const held = new Map(ITEM_NODES.map((n) => [itemNodeName(n), 0]));
    /** Units the applied adjusts added, per item-node. */
    const added = new Map(ITEM_NODES.map((n) => [itemNodeName(n), 0]));

    const reserver = async (r: number, clients: Clients) => {
      const mine: Array<{ id: string; at: ItemNode; quantity: number }> = [];
      for (let i = 0; racing(); i++) {
        if (mine.length > 0 && Math.random() < 0.25) {
          const [gone] = mine.splice(between(0, mine.length - 1), 1);
          const released = await counted(
            'ReleaseReservation',
            clients.reservations.releaseReservation({ requestId: `release-${gone!.id}`, reservationId: gone!.id }),
          );
          if (released) held.set(itemNodeName(gone!.at), held.get(itemNodeName(gone!.at))! - gone!.quantity);
          continue;
        }
        const at = pick(ITEM_NODES);
        const segment = pick(SEGMENTS);
        const quantity = between(1, 3);
        const id = `race-${r}-${i}`;
        const granted = await counted(
          'Reserve',
          clients.reservations.reserve({
            reservationId: id,
            lines: [
              {
                item: item(at.itemId),
                nodeId: at.nodeId,
                distributionGroupId: undefined,
                segment,
                quantity,
                allowSplit: false,
              },
            ],
            expireTime: new Date(Date.now() + 3_600_000),
          }),
        );
        if (granted) {
          mine.push({ id, at, quantity });
          held.set(itemNodeName(at), held.get(itemNodeName(at))! + quantity);
        }
      }
    };
    const rebalancer = async (r: number) => {
      for (let i = 0; racing(); i++) {
        const answer = await counted(
          'Rebalance',
          rebalances[r % rebalances.length]!.rebalance({
            requestId: `rebalance-${r}-${i}`,
            segmentType: TYPE,
            itemIds: ITEMS,
            nodeIds: NODES,
            dryRun: false,
            actor: 'race-test',
            pageSize: 0,
            pageToken: '',
          }),
        );
        if (answer?.run) {
          runStates.add(answer.run.state);
          if (answer.run.unitsMoved > 0) movingRebalances++;
        }
      }
    };
    // Receipts at one or both item-nodes at once, mostly into the pool (which the rebalances then share out, while
    // the pool's own and the borrowing segments' reservations take from it), so that stock keeps arriving to
    // fight over.
    const receiver = async (clients: Clients) => {
      for (let i = 0; racing(); i++) {
        const lines = Array.from({ length: between(1, 2) }, () => ({
          key: onhandKey(pick(ITEM_NODES), pick([POOL, POOL, POOL, STORE, MARKET])),
          quantityDelta: between(2, 6),
          sourceTime: new Date(),
          reason: 'RECEIPT',
        }));
        const answer = await counted('AdjustSupply', clients.supply.adjustSupply({ requestId: `receipt-${i}`, lines }));
        answer?.results.forEach((result, j) => {
          const name = itemNodeName({ itemId: lines[j]!.key.item!.itemId, nodeId: lines[j]!.key.nodeId });
          added.set(name, added.get(name)! + result.quantityAfter - result.quantityBefore);
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    // Every committed state must hold only what there is. A rebalance that moved units a reservation took
    // meanwhile leaves an oversell that later receipts and rebalances can cover up by the end, so a watcher
    // looks at the committed positions all along.
    const oversoldSeen = new Set<string>();
    const watcher = async () => {
      while (racing()) {
        for (const [at, p] of await positionsByItemNode()) oversoldAt(at, p).forEach((o) => oversoldSeen.add(o));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    try {
      await Promise.all([
        watcher(),
        ...Array.from({ length: RESERVERS }, (_, r) => reserver(r, channels[r % channels.length]!.clients)),
        ...Array.from({ length: REBALANCERS }, (_, r) => rebalancer(r)),
        receiver(channels[0]!.clients),
      ]);
    } finally {
      channels.forEach((c) => c.close());
    }

    // Only clean refusals, and enough of everything to have raced.
    const calls = Object.fromEntries(outcomes);
    const allowed = new Set([
      'Reserve OK',
      'Reserve FAILED_PRECONDITION INSUFFICIENT_AVAILABILITY',
      'ReleaseReservation OK',
      'Rebalance OK',
      'AdjustSupply OK',
    ]);
    expect(Object.keys(calls).filter((o) => !allowed.has(o))).toEqual([]);
    expect(calls).toMatchObject({
      'Reserve OK': expect.any(Number),
      'Reserve FAILED_PRECONDITION INSUFFICIENT_AVAILABILITY': expect.any(Number),
      'ReleaseReservation OK': expect.any(Number),
      'AdjustSupply OK': expect.any(Number),
    });
    expect([...runStates]).toEqual([pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED]);
    expect(movingRebalances).toBeGreaterThanOrEqual(MOVING_REBALANCES);

    // Nothing was oversold at any moment the watcher looked, nor is now; the positions add up to their rows;
    // what the callers were told is what is held.
    expect([...oversoldSeen]).toEqual([]);
    const positions = await positionsByItemNode();
    expect([...positions].flatMap(([at, p]) => oversoldAt(at, p))).toEqual([]);
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
    const reserved = (p: Record<string, PositionRow>) => Object.values(p).reduce((sum, q) => sum + q.reserved, 0);
    expect(new Map([...positions].map(([at, p]) => [at, reserved(p)]))).toEqual(held);
    for (const n of ITEM_NODES) {
      for (const segment of SEGMENTS) {
        const { availability } = await t.clients.availability.getNodeAvailability({
          item: item(n.itemId),
          nodeId: n.nodeId,
          segment,
          asOfTime: undefined,
        });
        expect([itemNodeName(n), nameOf(segment), availability?.shortage]).toEqual([
          itemNodeName(n),
          nameOf(segment),
          0,
        ]);
      }
    }
    // The moves conserve units: each item-node's supply over its segments and pool is what arrived there.
    expect(await supplyByItemNode()).toEqual(
      Object.fromEntries(
        ITEM_NODES.map((n) => [itemNodeName(n), synced.get(itemNodeName(n))! + added.get(itemNodeName(n))!]),
      ),
    );
  }, 60_000);

  /**
   * Each item-node's positions, by segment name, as the database holds them: one statement, so one committed
   * state of them all.
   */
  async function positionsByItemNode(): Promise<Map<string, Record<string, PositionRow>>> {
    const rows: Array<PositionRow & { item_id: string; node_id: string; segment: string }> = await t.database.db
      .knex('stock_positions')
      .whereIn('item_id', ITEMS)
      .select('item_id', 'node_id', 'segment', 'supply', 'demand', 'reserved', 'loan');
    const positions = new Map(ITEM_NODES.map((n): [string, Record<string, PositionRow>] => [itemNodeName(n), {}]));
    for (const r of rows)
      positions.get(itemNodeName({ itemId: r.item_id, nodeId: r.node_id }))![r.segment || 'POOL'] = {
        supply: Number(r.supply),
        demand: Number(r.demand),
        reserved: Number(r.reserved),
        loan: Number(r.loan),
      };
    return positions;
  }

  /** Supply rows summed per item-node, over the segments and the pool. */
  async function supplyByItemNode(): Promise<Record<string, number>> {
    const rows: Array<{ item_id: string; node_id: string; total: number | string }> = await t.database.db
      .knex('supply')
      .whereIn('item_id', ITEMS)
      .groupBy('item_id', 'node_id')
      .select('item_id', 'node_id')
      .sum({ total: 'quantity' });
    return Object.fromEntries(
      rows.map((r) => [itemNodeName({ itemId: r.item_id, nodeId: r.node_id }), Number(r.total)]),
    );
  }
});

/**
 * What is oversold at an item-node, if anything: MARKET (which may not borrow) holding more than its own, a
 * borrowing segment owing other than what it holds beyond its own, the pool's loan other than what its
 * segments owe, or the pool's own commitments and what it lent exceeding its supply.
 */
function oversoldAt(at: string, positions: Record<string, PositionRow>): string[] {
  const none: PositionRow = { supply: 0, demand: 0, reserved: 0, loan: 0 };
  const committed = (p: PositionRow) => p.demand + p.reserved;
  const found: string[] = [];
  const market = positions['MARKET'] ?? none;
  if (committed(market) > market.supply || market.loan !== 0)
    found.push(`${at} MARKET commits ${committed(market)} of ${market.supply}, owes ${market.loan}`);
  let lent = 0;
  for (const name of ['STORE', 'ONLINE']) {
    const s = positions[name] ?? none;
    if (s.loan !== Math.max(0, committed(s) - s.supply))
      found.push(`${at} ${name} commits ${committed(s)} of ${s.supply}, owes ${s.loan}`);
    lent += s.loan;
  }
  const pool = positions['POOL'] ?? none;
  if (pool.loan !== lent || committed(pool) + lent > pool.supply)
    found.push(`${at} POOL commits ${committed(pool)} and lent ${lent} (recorded ${pool.loan}) of ${pool.supply}`);
  return found;
}
