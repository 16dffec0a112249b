import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import type { Dialect } from '@inventory/store';
import { MYSQL_TEST_URL, positionsDisagreeingWithRows } from '@inventory/store/testing';
import { connectClients, promisify, startTestService, type Clients, type TestService } from './testing/harness';
import { listeningPort, startProcess, type ServerProcess } from './testing/process';
import { createNodes, defineSegments, item } from './testing/stock';

/**
 * Borrowing from the unsegmented pool under real concurrency: many one-unit reservations at once, in two
 * borrowing segments and in the pool at the same item and node, sent over several channels to two server
 * processes on one MariaDB database (on SQLite: to one process). Whatever order they land in, the units
 * held never exceed the supply, no loan passes its cap or floor, every success is stored, and every
 * position's totals and loans agree with the rows.
 */

const NODE = 'DC1';
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const STORE: pb.SegmentKey = { segmentType: 'WEB', segment: 'STORE' };
const ONLINE: pb.SegmentKey = { segmentType: 'WEB', segment: 'ONLINE' };
const nameOf = (segment: pb.SegmentKey) => segment.segment || 'POOL';

const inOneHour = () => new Date(Date.now() + 3_600_000);
const reasonOf = (err: unknown) => errorDetails(err as ServiceError).errorInfo?.reason ?? (err as Error).message;

/** Where one reservation goes: an item at the node, in a segment (or the pool). */
interface Target {
  readonly itemId: string;
  readonly segment: pb.SegmentKey;
}
const targetName = (t: Target) => `${t.itemId} ${nameOf(t.segment)}`;

/** A stock_positions row's figures, as the database holds them. */
interface PositionRow {
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly loan: number;
}

/** SQLite: one in-process server. MariaDB: two server processes sharing the database (and the schema). */
const SETUPS: ReadonlyArray<{ dialect: Dialect; processes: number }> = MYSQL_TEST_URL
  ? [
      { dialect: 'sqlite', processes: 0 },
      { dialect: 'mysql', processes: 2 },
    ]
  : [{ dialect: 'sqlite', processes: 0 }];

for (const { dialect, processes } of SETUPS) {
  const where = processes > 0 ? `${processes} server processes` : 'one server';
  describe(`borrowing from the pool under concurrency, ${where} [${dialect}]`, () => suite(dialect, processes));
}
if (!MYSQL_TEST_URL) {
  describe.skip('borrowing from the pool under concurrency, 2 server processes [mysql: skipped, INVENTORY_TEST_MYSQL_URL is not set]', () => {
    it('runs against MariaDB/MySQL', () => undefined);
  });
}

function suite(dialect: Dialect, processes: number): void {
  let t: TestService;
  const procs: ServerProcess[] = [];
  let channels: Array<{ clients: Clients; close(): void }> = [];
  let rulesClient: pb.ConsumptionRuleServiceClient;

  beforeAll(async () => {
    // The in-process service creates the schema and does the set-up; the reservations go to `processes`
    // other processes on the same database when there are any, otherwise to it.
    t = await startTestService(dialect);
    rulesClient = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    await createNodes(t.clients, [NODE]);
    await defineSegments(t.address, [STORE, ONLINE]);
    for (let i = 0; i < processes; i++)
      procs.push(startProcess({ INVENTORY_DATABASE_URL: t.database.url, INVENTORY_GRPC_ADDRESS: '127.0.0.1:0' }));
    const addresses =
      processes > 0
        ? (await Promise.all(procs.map((p) => listeningPort(p)))).map((p) => `127.0.0.1:${p}`)
        : [t.address];
    channels = Array.from({ length: 8 }, (_, i) => connectClients(addresses[i % addresses.length]!));
  });
  afterAll(async () => {
    channels.forEach((c) => c.close());
    rulesClient.close();
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await t.stop();
  });

  let syncs = 0;
  /** Sets ONHAND supply of an item at the node, per segment (the pool included). */
  const stock = (itemId: string, quantities: ReadonlyArray<readonly [pb.SegmentKey, number]>) =>
    t.clients.supply.syncSupply({
      requestId: `supply-${++syncs}`,
      lines: quantities.map(([segment, quantity]) => ({
        key: {
          item: item(itemId),
          nodeId: NODE,
          segment,
          supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
          etaTime: undefined,
        },
        quantity,
        sourceTime: new Date(),
      })),
    });
  let versions = 0;
  const setRules = (segments: pb.SegmentConsumptionRule[]) =>
    promisify(rulesClient).setConsumptionRules({ requestId: `rules-${++versions}`, borrowingEnabled: true, segments });

  /**
   * Sends `count` one-unit reservations at once, the i-th to `targets[i % targets.length]`, over every
   * channel in turn; returns the outcomes per target ("OK" or the refusal's reason) and the ids that got
   * through.
   */
  async function reserveAll(prefix: string, count: number, targets: readonly Target[]) {
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => {
        const target = targets[i % targets.length]!;
        return channels[i % channels.length]!.clients.reservations.reserve({
          reservationId: `${prefix}-${i}`,
          lines: [
            {
              item: item(target.itemId),
              nodeId: NODE,
              distributionGroupId: undefined,
              segment: target.segment,
              quantity: 1,
              allowSplit: false,
            },
          ],
          expireTime: inOneHour(),
        });
      }),
    );
    const outcomes: Record<string, Record<string, number>> = {};
    const granted = new Map<string, string>();
    results.forEach((r, i) => {
      const name = targetName(targets[i % targets.length]!);
      const outcome = r.status === 'fulfilled' ? 'OK' : reasonOf(r.reason);
      outcomes[name] = { ...outcomes[name], [outcome]: (outcomes[name]?.[outcome] ?? 0) + 1 };
      if (r.status === 'fulfilled') {
        expect(r.value.reservation?.lines[0]?.allocations).toEqual([{ nodeId: NODE, quantity: 1 }]);
        granted.set(`${prefix}-${i}`, name);
      }
    });
    return { outcomes, granted };
  }

  /** The successes per target. */
  const okOf = (outcomes: Record<string, Record<string, number>>) =>
    Object.fromEntries(Object.entries(outcomes).map(([name, o]) => [name, o['OK'] ?? 0]));

  /** Each position of the item at the node, by segment name, as the database holds it. */
  async function positionsOf(itemId: string): Promise<Record<string, PositionRow>> {
    const rows: Array<PositionRow & { segment: string }> = await t.database.db
      .knex('stock_positions')
      .where({ item_id: itemId, node_id: NODE })
      .select('segment', 'supply', 'demand', 'reserved', 'loan');
    return Object.fromEntries(
      rows.map((r) => [
        r.segment || 'POOL',
        { supply: Number(r.supply), demand: Number(r.demand), reserved: Number(r.reserved), loan: Number(r.loan) },
      ]),
    );
  }

  /**
   * Every granted reservation is stored, holding its one unit at its target's position, and no refused one
   * left a row: the stored reservations of `prefix` and their HELD units, per target.
   */
  async function expectStored(prefix: string, granted: ReadonlyMap<string, string>) {
    const rows: Array<{ reservation_id: string; state: string; item_id: string; segment: string; quantity: number }> =
      await t.database.db
        .knex('reservations as r')
        .leftJoin('reservation_holds as h', 'h.reservation_id', 'r.reservation_id')
        .leftJoin('stock_positions as p', 'p.position_id', 'h.position_id')
        .where('r.reservation_id', 'like', `${prefix}-%`)
        .select('r.reservation_id', 'h.state', 'p.item_id', 'p.segment', 'h.quantity');
    const stored = new Map(
      rows.map((r) => [r.reservation_id, `${r.item_id} ${r.segment || 'POOL'} ${r.state} ${r.quantity}`]),
    );
    expect(rows).toHaveLength(granted.size);
    expect(Object.fromEntries(stored)).toEqual(
      Object.fromEntries([...granted].map(([id, name]) => [id, `${name} HELD 1`])),
    );
  }

  /** The units held at the item-node never exceed its supply, and each loan is what its segment holds beyond its own. */
  function expectNoOversell(positions: Record<string, PositionRow>) {
    const segments = Object.entries(positions).filter(([name]) => name !== 'POOL');
    for (const [, s] of segments) expect(s.loan).toBe(Math.max(0, s.demand + s.reserved - s.supply));
    const pool = positions['POOL']!;
    const lent = segments.reduce((a, [, s]) => a + s.loan, 0);
    expect(pool.loan).toBe(lent);
    expect(pool.demand + pool.reserved + lent).toBeLessThanOrEqual(pool.supply);
    const all = Object.values(positions);
    expect(all.reduce((a, p) => a + p.demand + p.reserved, 0)).toBeLessThanOrEqual(
      all.reduce((a, p) => a + p.supply, 0),
    );
  }

  it('lets exactly the 50 units of two borrowing segments and the pool go to 200 simultaneous reservations', async () => {
    await setRules([
      { segment: STORE, mayBorrow: true },
      { segment: ONLINE, mayBorrow: true },
    ]);
    await stock('SHARED', [
      [POOL, 30],
      [STORE, 10],
      [ONLINE, 10],
    ]);
    // 100 calls for STORE, 80 for ONLINE, 20 for the pool. The pool's own calls alone cannot empty it, so the
    // segments must race each other for what it lends.
    const targets = Array.from({ length: 10 }, (_, i) => ({
      itemId: 'SHARED',
      segment: i === 9 ? POOL : i % 2 ? ONLINE : STORE,
    }));
    const { outcomes, granted } = await reserveAll('shared', 200, targets);

    const refusals = new Set(Object.values(outcomes).flatMap((o) => Object.keys(o).filter((k) => k !== 'OK')));
    expect([...refusals]).toEqual(['INSUFFICIENT_AVAILABILITY']);
    expect(granted.size).toBe(50);
    // Each segment sold its own 10 and borrowed the rest of what it sold; the pool lent what it did not sell.
    const ok = okOf(outcomes);
    const [store, online, pool] = [ok['SHARED STORE']!, ok['SHARED ONLINE']!, ok['SHARED POOL']!];
    expect(await positionsOf('SHARED')).toEqual({
      STORE: { supply: 10, demand: 0, reserved: store, loan: store - 10 },
      ONLINE: { supply: 10, demand: 0, reserved: online, loan: online - 10 },
      POOL: { supply: 30, demand: 0, reserved: pool, loan: store - 10 + online - 10 },
    });
    expect(Math.min(store, online)).toBeGreaterThanOrEqual(10);
    expect(store + online - 20).toBeGreaterThanOrEqual(10);
    expectNoOversell(await positionsOf('SHARED'));
    await expectStored('shared', granted);
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
    // The availability answers agree: nothing left anywhere, and the loans cover what the segments hold.
    for (const segment of [STORE, ONLINE, POOL]) {
      const { availability } = await t.clients.availability.getNodeAvailability({
        item: item('SHARED'),
        nodeId: NODE,
        segment,
        asOfTime: undefined,
      });
      expect(availability).toMatchObject({ available: 0, shortage: 0 });
    }
  });

  it('keeps every segment within its cap and its floor, and the pool sells only what they leave', async () => {
    // STORE may owe at most 5; ONLINE at most a fifth of the pool's supply, and not below 15 left in it.
    await setRules([
      { segment: STORE, mayBorrow: true, capQuantity: 5 },
      { segment: ONLINE, mayBorrow: true, capRatio: 0.2, keepInPool: 15 },
    ]);
    // CAPPED: the caps bind (STORE 5; ONLINE floor(0.2 x 30) = 6, while 30 - 5 - 15 = 10 would still be free).
    await stock('CAPPED', [
      [POOL, 30],
      [STORE, 10],
      [ONLINE, 10],
    ]);
    // FLOORED: the floor binds (ONLINE 17 - 15 = 2, below floor(0.2 x 17) = 3).
    await stock('FLOORED', [
      [POOL, 17],
      [ONLINE, 10],
    ]);
    const first = await reserveAll('capped', 200, [
      { itemId: 'CAPPED', segment: STORE },
      { itemId: 'CAPPED', segment: ONLINE },
      { itemId: 'FLOORED', segment: ONLINE },
    ]);
    expect(first.outcomes).toEqual({
      'CAPPED STORE': { OK: 15, INSUFFICIENT_AVAILABILITY: 67 - 15 },
      'CAPPED ONLINE': { OK: 16, INSUFFICIENT_AVAILABILITY: 67 - 16 },
      'FLOORED ONLINE': { OK: 12, INSUFFICIENT_AVAILABILITY: 66 - 12 },
    });
    expect(await positionsOf('CAPPED')).toEqual({
      STORE: { supply: 10, demand: 0, reserved: 15, loan: 5 },
      ONLINE: { supply: 10, demand: 0, reserved: 16, loan: 6 },
      POOL: { supply: 30, demand: 0, reserved: 0, loan: 11 },
    });
    expect(await positionsOf('FLOORED')).toEqual({
      ONLINE: { supply: 10, demand: 0, reserved: 12, loan: 2 },
      POOL: { supply: 17, demand: 0, reserved: 0, loan: 2 },
    });
    await expectStored('capped', first.granted);

    // Now the pool's own callers race the segments, which have nothing left to borrow: the pool sells the rest.
    const second = await reserveAll('rest', 200, [
      { itemId: 'CAPPED', segment: POOL },
      { itemId: 'CAPPED', segment: STORE },
      { itemId: 'FLOORED', segment: ONLINE },
      { itemId: 'FLOORED', segment: POOL },
    ]);
    expect(okOf(second.outcomes)).toEqual({
      'CAPPED POOL': 30 - 11,
      'CAPPED STORE': 0,
      'FLOORED ONLINE': 0,
      'FLOORED POOL': 17 - 2,
    });
    for (const itemId of ['CAPPED', 'FLOORED']) expectNoOversell(await positionsOf(itemId));
    expect((await positionsOf('CAPPED'))['POOL']).toEqual({ supply: 30, demand: 0, reserved: 19, loan: 11 });
    expect((await positionsOf('FLOORED'))['POOL']).toEqual({ supply: 17, demand: 0, reserved: 15, loan: 2 });
    await expectStored('rest', second.granted);
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });

  it('has a position check that notices a loan one unit off, on a segment or on the pool', async () => {
    await setRules([
      { segment: STORE, mayBorrow: true },
      { segment: ONLINE, mayBorrow: true },
    ]);
    await stock('CHECKED', [
      [POOL, 5],
      [STORE, 1],
    ]);
    const { granted } = await reserveAll('checked', 3, [{ itemId: 'CHECKED', segment: STORE }]);
    expect(granted.size).toBe(3);
    expect(await positionsOf('CHECKED')).toEqual({
      STORE: { supply: 1, demand: 0, reserved: 3, loan: 2 },
      POOL: { supply: 5, demand: 0, reserved: 0, loan: 2 },
    });
    const shift = (segment: pb.SegmentKey, delta: number) =>
      t.database.db
        .knex('stock_positions')
        .where({ item_id: 'CHECKED', node_id: NODE, segment_type: segment.segmentType, segment: segment.segment })
        .update({ loan: t.database.db.knex.raw('loan + ?', [delta]) });
    const disagreeing = () => positionsDisagreeingWithRows(t.database.db.knex);
    expect(await disagreeing()).toEqual([]);
    // The pool lent one more than its segments owe.
    await shift(POOL, 1);
    expect(await disagreeing()).toEqual([expect.objectContaining({ segment: 'POOL', loan: 2, actualLoan: 3 })]);
    // STORE owes one less than it holds beyond its own, and the pool's loan is the sum of what it says.
    await shift(STORE, -1);
    await shift(POOL, -2);
    expect(await disagreeing()).toEqual([expect.objectContaining({ segment: 'WEB/STORE', loan: 2, actualLoan: 1 })]);
    await shift(STORE, 1);
    await shift(POOL, 1);
    expect(await disagreeing()).toEqual([]);
  });
}
