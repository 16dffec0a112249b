import { status, type ServiceError } from '@grpc/grpc-js';
import { errorDetails } from '@inventory/grpc-server';
import { MYSQL_TEST_URL } from '@inventory/store/testing';
import knex, { type Knex } from 'knex';
import { startTestService, type TestService } from './testing/harness';
import { atNode, available, createNodes, onhand } from './testing/stock';

const inOneHour = () => new Date(Date.now() + 3_600_000);
const describeOnMysql = MYSQL_TEST_URL ? describe : describe.skip;

describeOnMysql('connections killed under the server [mysql]', () => {
  let t: TestService;
  let admin: Knex;
  beforeAll(async () => {
    t = await startTestService('mysql');
    admin = knex({ client: 'mysql2', connection: MYSQL_TEST_URL, pool: { min: 1, max: 1 } });
    await createNodes(t.clients, ['DC1']);
    await onhand(t.clients, [{ itemId: 'KILLED', nodeId: 'DC1', quantity: 1_000_000 }]);
  });
  afterAll(async () => {
    await admin.destroy();
    await t.stop();
  });

  /** Kills every connection to the test database but the admin's own; returns how many it killed. */
  const killConnections = async () => {
    const database = new URL(t.database.url).pathname.slice(1);
    const [rows] = (await admin.raw('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [database])) as [Array<{ id: number }>];
    for (const { id } of rows) await admin.raw(`KILL ${Number(id)}`).catch(() => undefined);
    return rows.length;
  };

  let calls = 0;
  /** A mix of a mutation, a reservation and a read; resolves to 'OK' or the failure's code and reason. */
  const someCalls = () => {
    const n = ++calls;
    const outcome = (call: Promise<unknown>) =>
      call.then(
        () => 'OK',
        (err: ServiceError) => `${status[err.code]} ${errorDetails(err).errorInfo?.reason ?? ''}`,
      );
    return [
      outcome(t.clients.reservations.reserve({ reservationId: `killed-${n}`, lines: [atNode('KILLED', 'DC1', 1)], expireTime: inOneHour() })),
      outcome(onhand(t.clients, [{ itemId: `KILLED-${n % 5}`, nodeId: 'DC1', quantity: n }])),
      outcome(available(t.clients, 'KILLED', 'DC1')),
      outcome(t.clients.reservations.getReservation({ reservationId: `killed-${n - 1}` }).catch((err: ServiceError) => {
        if (err.code === status.NOT_FOUND) return;
        throw err;
      })),
    ];
  };

  it('answers every call after the pool was killed with success or UNAVAILABLE, never INTERNAL', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      // Fill the pool, kill it while some calls are in flight, then call again at once.
      const inFlight = Array.from({ length: 3 }, someCalls).flat();
      await new Promise((resolve) => setTimeout(resolve, round * 3));
      expect(await killConnections()).toBeGreaterThan(0);
      const after = Array.from({ length: 3 }, someCalls).flat();
      outcomes.push(...(await Promise.all([...inFlight, ...after])));
    }
    const failures = outcomes.filter((o) => o !== 'OK');
    expect(failures.filter((o) => o !== 'UNAVAILABLE DATABASE_UNAVAILABLE')).toEqual([]);
    expect(outcomes.filter((o) => o === 'OK').length).toBeGreaterThan(outcomes.length / 2);

    // Afterwards the service works as before: the pool replaced every killed connection.
    await killConnections();
    expect(await Promise.all(someCalls())).toEqual(['OK', 'OK', 'OK', 'OK']);
  });
});
