import { type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { describeEachDatabase, positionsDisagreeingWithRows } from '@inventory/store/testing';
import { connectClients, startTestService, type Clients, type TestService } from './testing/harness';
import { listeningPort, startProcess, type ServerProcess } from './testing/process';
import { atNode, available, createNodes, onhand } from './testing/stock';

const inOneHour = () => new Date(Date.now() + 3_600_000);
const reasonOf = (err: unknown) => errorDetails(err as ServiceError).errorInfo?.reason ?? (err as Error).message;

/** Sends every call at once over `channels` separate channels; returns what each call got. */
async function all<T>(channels: readonly Clients[], count: number, call: (clients: Clients, i: number) => Promise<T>) {
  return Promise.allSettled(Array.from({ length: count }, (_, i) => call(channels[i % channels.length] as Clients, i)));
}

function tally(results: ReadonlyArray<PromiseSettledResult<unknown>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const outcome = r.status === 'fulfilled' ? 'OK' : reasonOf(r.reason);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  return counts;
}

describeEachDatabase('reservations under concurrency', (dialect) => {
  let t: TestService;
  let channels: Array<{ clients: Clients; close(): void }>;
  beforeAll(async () => {
    t = await startTestService(dialect);
    channels = Array.from({ length: 8 }, () => t.connect());
    await createNodes(t.clients, ['DC1', 'DC2']);
  });
  afterAll(async () => {
    channels.forEach((c) => c.close());
    await t.stop();
  });

  it('lets exactly 50 of 200 simultaneous one-unit reservations through when 50 are available', async () => {
    await onhand(t.clients, [{ itemId: 'HOT', nodeId: 'DC1', quantity: 50 }]);
    const results = await all(
      channels.map((c) => c.clients),
      200,
      (c, i) =>
        c.reservations.reserve({
          reservationId: `hot-${i}`,
          lines: [atNode('HOT', 'DC1', 1)],
          expireTime: inOneHour(),
        }),
    );
    expect(tally(results)).toEqual({ OK: 50, INSUFFICIENT_AVAILABILITY: 150 });
    expect(await available(t.clients, 'HOT', 'DC1')).toMatchObject({ available: 0, reservedQuantity: 50 });
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });

  it('never lets opposite-order multi-line reservations deadlock into a caller-visible error', async () => {
    await onhand(t.clients, [
      { itemId: 'LEFT', nodeId: 'DC1', quantity: 60 },
      { itemId: 'RIGHT', nodeId: 'DC2', quantity: 60 },
    ]);
    const results = await all(
      channels.map((c) => c.clients),
      120,
      (c, i) => {
        const lines = [atNode('LEFT', 'DC1', 1), atNode('RIGHT', 'DC2', 1)];
        return c.reservations.reserve({
          reservationId: `pair-${i}`,
          lines: i % 2 ? lines : lines.reverse(),
          expireTime: inOneHour(),
        });
      },
    );
    expect(tally(results)).toEqual({ OK: 60, INSUFFICIENT_AVAILABILITY: 60 });
    expect(await available(t.clients, 'LEFT', 'DC1')).toMatchObject({ available: 0, reservedQuantity: 60 });
    expect(await available(t.clients, 'RIGHT', 'DC2')).toMatchObject({ available: 0, reservedQuantity: 60 });
  });

  it('accounts for every unit exactly once when expiry races consume and extend', async () => {
    const stock = 600;
    await onhand(t.clients, [{ itemId: 'RACE', nodeId: 'DC1', quantity: stock }]);
    const held = 60;
    // Expiries spread over the window in which the consumes and extends arrive.
    const start = Date.now() + 1000;
    const made = await all(
      channels.map((c) => c.clients),
      held,
      (c, i) =>
        c.reservations.reserve({
          reservationId: `race-${i}`,
          lines: [atNode('RACE', 'DC1', 5)],
          expireTime: new Date(start + (i % 20) * 25),
        }),
    );
    expect(tally(made)).toEqual({ OK: held });
    await new Promise((r) => setTimeout(r, Math.max(0, start + 250 - Date.now())));
    const clients = channels.map((c) => c.clients);
    const [consumes, extends_, newcomers] = await Promise.all([
      all(clients, held, (c, i) =>
        c.reservations.consumeReservation({
          requestId: `race-c-${i}`,
          reservationId: `race-${i}`,
          orderReference: `ORDER-${i}`,
          lines: [],
          demandType: pb.DemandType.DEMAND_TYPE_UNSPECIFIED,
        }),
      ),
      all(clients, held, (c, i) =>
        c.reservations.extendReservation({
          requestId: `race-e-${i}`,
          reservationId: `race-${held - 1 - i}`,
          expireTime: inOneHour(),
        }),
      ),
      // New reservations want the stock the expired ones free, so positions expire holds on their own too.
      all(clients, 40, (c, i) =>
        c.reservations.reserve({
          reservationId: `newcomer-${i}`,
          lines: [atNode('RACE', 'DC1', 10)],
          expireTime: inOneHour(),
        }),
      ),
    ]);
    for (const results of [consumes, extends_]) {
      for (const r of results) if (r.status === 'rejected') expect(reasonOf(r.reason)).toBe('RESERVATION_NOT_ACTIVE');
    }
    for (const r of newcomers)
      if (r.status === 'rejected') expect(reasonOf(r.reason)).toBe('INSUFFICIENT_AVAILABILITY');
    await t.service.sweeper.sweepOnce();

    // Each held reservation ended one way: its 5 units are in demand, still held, or free again.
    const { demands } = await t.clients.demand.getDemand({
      item: { itemId: 'RACE', unitOfMeasure: '', productClass: '' },
      nodeId: 'DC1',
      segment: undefined,
    });
    let consumed = 0;
    let stillHeld = 0;
    for (let i = 0; i < held; i++) {
      const { reservation } = await t.clients.reservations.getReservation({ reservationId: `race-${i}` });
      const inDemand = demands.find((d) => d.key?.orderReference === `ORDER-${i}`)?.quantity ?? 0;
      const holding = reservation?.lines[0]?.allocations.reduce((s, a) => s + a.quantity, 0) ?? 0;
      expect([reservation?.state, inDemand, holding]).toEqual(
        expect.arrayContaining(
          reservation?.state === pb.ReservationState.RESERVATION_STATE_CONSUMED
            ? [pb.ReservationState.RESERVATION_STATE_CONSUMED, 5, 0]
            : reservation?.state === pb.ReservationState.RESERVATION_STATE_ACTIVE
              ? [pb.ReservationState.RESERVATION_STATE_ACTIVE, 0, 5]
              : [pb.ReservationState.RESERVATION_STATE_EXPIRED, 0, 0],
        ),
      );
      consumed += inDemand;
      stillHeld += holding;
    }
    const newcomersHeld = 10 * newcomers.filter((r) => r.status === 'fulfilled').length;
    const figures = await available(t.clients, 'RACE', 'DC1');
    expect(figures).toMatchObject({ demandQuantity: consumed, reservedQuantity: stillHeld + newcomersHeld });
    expect((figures?.available ?? 0) + consumed + stillHeld + newcomersHeld).toBe(stock);
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });
});

describeEachDatabase('reservations across two server processes', (dialect) => {
  let t: TestService;
  const procs: ServerProcess[] = [];
  let channels: Array<{ clients: Clients; close(): void }> = [];
  beforeAll(async () => {
    // The in-process service creates the schema; the two processes share its database.
    t = await startTestService(dialect);
    await createNodes(t.clients, ['DC1']);
    await onhand(t.clients, [{ itemId: 'SHARED', nodeId: 'DC1', quantity: 50 }]);
    for (let i = 0; i < 2; i++) {
      const proc = startProcess({ INVENTORY_DATABASE_URL: t.database.url, INVENTORY_GRPC_ADDRESS: '127.0.0.1:0' });
      procs.push(proc);
      await listeningPort(proc);
    }
    const ports = await Promise.all(procs.map((p) => listeningPort(p)));
    channels = Array.from({ length: 8 }, (_, i) => connectClients(`127.0.0.1:${ports[i % 2]}`));
  });
  afterAll(async () => {
    channels.forEach((c) => c.close());
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await t.stop();
  });

  it('lets exactly 50 of 200 simultaneous reservations through, half sent to each process', async () => {
    const results = await all(
      channels.map((c) => c.clients),
      200,
      (c, i) =>
        c.reservations.reserve({
          reservationId: `shared-${i}`,
          lines: [atNode('SHARED', 'DC1', 1)],
          expireTime: inOneHour(),
        }),
    );
    expect(tally(results)).toEqual({ OK: 50, INSUFFICIENT_AVAILABILITY: 150 });
    expect(await available(t.clients, 'SHARED', 'DC1')).toMatchObject({ available: 0, reservedQuantity: 50 });
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });
});
