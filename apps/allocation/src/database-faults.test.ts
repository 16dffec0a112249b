import { createServer, connect, type Server, type Socket } from 'node:net';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { healthV1 } from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { createLogger } from '@inventory/runtime';
import { createTestDatabase, describeEachDatabase, MYSQL_TEST_URL, type TestDatabase } from '@inventory/store/testing';
import knex, { type Knex } from 'knex';
import { startAllocationService, type RunningService } from './allocation-service';
import { loadConfig } from './config';
import { connectClients, grpcError, startTestService, type Clients, type TestService } from './testing/harness';
import { waitFor } from './testing/process';
import { atNode, available, createNodes, onhand } from './testing/stock';

const inOneHour = () => new Date(Date.now() + 3_600_000);
const describeOnMysql = MYSQL_TEST_URL ? describe : describe.skip;
const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;

/** Asks the health service about the supply service. */
function servingStatus(health: healthV1.HealthClient): Promise<healthV1.HealthCheckResponse_ServingStatus> {
  return new Promise((resolve, reject) =>
    health.check({ service: 'inventory.v1.SupplyService' }, (err, res) => (err ? reject(err) : resolve(res.status))),
  );
}

/** Waits until health reports `wanted`. */
async function healthBecomes(
  health: healthV1.HealthClient,
  wanted: healthV1.HealthCheckResponse_ServingStatus,
): Promise<void> {
  let seen: healthV1.HealthCheckResponse_ServingStatus | undefined;
  await waitFor(() => (seen === wanted ? true : void servingStatus(health).then((s) => (seen = s))), 10_000);
}

/** A TCP proxy to the database that can be taken down (connections cut, connects refused) and brought back. */
class DatabaseProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 3306), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

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
    const [rows] = (await admin.raw(
      'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
      [database],
    )) as [Array<{ id: number }>];
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
      outcome(
        t.clients.reservations.reserve({
          reservationId: `killed-${n}`,
          lines: [atNode('KILLED', 'DC1', 1)],
          expireTime: inOneHour(),
        }),
      ),
      outcome(onhand(t.clients, [{ itemId: `KILLED-${n % 5}`, nodeId: 'DC1', quantity: n }])),
      outcome(available(t.clients, 'KILLED', 'DC1')),
      outcome(
        t.clients.reservations.getReservation({ reservationId: `killed-${n - 1}` }).catch((err: ServiceError) => {
          if (err.code === status.NOT_FOUND) return;
          throw err;
        }),
      ),
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

describeEachDatabase('a database that loses its tables', (dialect) => {
  let t: TestService;
  let health: healthV1.HealthClient;
  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_HEALTH_CHECK_INTERVAL_MS: '100' });
    health = new healthV1.HealthClient(t.address, credentials.createInsecure());
    await createNodes(t.clients, ['DC1']);
    await onhand(t.clients, [{ itemId: 'GONE', nodeId: 'DC1', quantity: 5 }]);
  });
  afterAll(async () => {
    health.close();
    await t.stop();
  });

  const rename = (from: string, to: string) =>
    t.database.db.knex.raw(
      dialect === 'mysql' ? `RENAME TABLE ${from} TO ${to}` : `ALTER TABLE ${from} RENAME TO ${to}`,
    );

  it('turns health NOT_SERVING and answers UNAVAILABLE while a table is gone, and recovers when it is back', async () => {
    expect(await servingStatus(health)).toBe(SERVING);

    await rename('supply', 'supply_gone');
    await healthBecomes(health, NOT_SERVING);
    for (const call of [
      t.clients.supply.getSupply({
        item: { itemId: 'GONE', unitOfMeasure: '', productClass: '' },
        nodeId: 'DC1',
        segment: undefined,
      }),
      onhand(t.clients, [{ itemId: 'GONE', nodeId: 'DC1', quantity: 7 }]),
    ]) {
      const err = await grpcError(call);
      expect([status[err.code], errorDetails(err).errorInfo]).toEqual([
        'UNAVAILABLE',
        { reason: 'DATABASE_UNAVAILABLE', domain: 'inventory.v1', metadata: { problem: 'NOT_USABLE' } },
      ]);
    }

    await rename('supply_gone', 'supply');
    await healthBecomes(health, SERVING);
    await onhand(t.clients, [{ itemId: 'GONE', nodeId: 'DC1', quantity: 7 }]);
    expect((await available(t.clients, 'GONE', 'DC1'))?.onhandQuantity).toBe(7);
  });
});

describeOnMysql('a database that stops answering [mysql]', () => {
  let database: TestDatabase;
  let service: RunningService;
  let connection: { clients: Clients; close(): void };
  let health: healthV1.HealthClient;
  let proxy: DatabaseProxy;
  beforeAll(async () => {
    proxy = new DatabaseProxy(new URL(MYSQL_TEST_URL));
    await proxy.up();
    database = await createTestDatabase('mysql');
    // The service reaches the test database through the proxy.
    const proxied = new URL(database.url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const config = loadConfig({
      INVENTORY_DATABASE_URL: proxied.toString(),
      INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
      INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
      INVENTORY_HEALTH_CHECK_INTERVAL_MS: '100',
      INVENTORY_SHUTDOWN_GRACE_MS: '2000',
    });
    service = await startAllocationService(config, createLogger('allocation-test', 'silent'));
    connection = connectClients(`127.0.0.1:${service.port}`);
    health = new healthV1.HealthClient(`127.0.0.1:${service.port}`, credentials.createInsecure());
    await createNodes(connection.clients, ['DC1']);
  });
  afterAll(async () => {
    health.close();
    connection.close();
    await service.stop();
    await proxy.down();
    await database.drop();
  });

  it('answers UNAVAILABLE and turns health NOT_SERVING while it is down, and recovers when it is back', async () => {
    const { clients } = connection;
    await onhand(clients, [{ itemId: 'DOWN', nodeId: 'DC1', quantity: 3 }]);
    expect(await servingStatus(health)).toBe(SERVING);

    await proxy.down();
    for (const call of [
      onhand(clients, [{ itemId: 'DOWN', nodeId: 'DC1', quantity: 4 }]),
      available(clients, 'DOWN', 'DC1'),
    ]) {
      const err = await grpcError(call);
      expect([status[err.code], errorDetails(err).errorInfo?.reason]).toEqual(['UNAVAILABLE', 'DATABASE_UNAVAILABLE']);
    }
    await healthBecomes(health, NOT_SERVING);

    await proxy.up();
    await healthBecomes(health, SERVING);
    await onhand(clients, [{ itemId: 'DOWN', nodeId: 'DC1', quantity: 4 }]);
    expect((await available(clients, 'DOWN', 'DC1'))?.onhandQuantity).toBe(4);
  });
});
