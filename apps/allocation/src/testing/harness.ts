/** Starts the real allocation service on a free port over a fresh database, with real grpc-js clients. */
import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { createLogger } from '@inventory/runtime';
import type { Dialect } from '@inventory/store';
import { createTestDatabase, type TestDatabase } from '@inventory/store/testing';
import { startAllocationService, type RunningService } from '../allocation-service';
import { loadConfig } from '../config';

import { promisify, type Promisified } from '@inventory/grpc-server/testing';

export { grpcError, promisify, type Promisified } from '@inventory/grpc-server/testing';

export interface Clients {
  readonly nodes: Promisified<pb.NodeServiceClient>;
  readonly safetyStock: Promisified<pb.SafetyStockServiceClient>;
  readonly supply: Promisified<pb.SupplyServiceClient>;
  readonly availability: Promisified<pb.AvailabilityServiceClient>;
  readonly demand: Promisified<pb.DemandServiceClient>;
  readonly reservations: Promisified<pb.ReservationServiceClient>;
}

export interface TestService {
  readonly address: string;
  readonly database: TestDatabase;
  readonly service: RunningService;
  readonly clients: Clients;
  /** Opens one more set of clients on its own channel. */
  connect(): { clients: Clients; close(): void };
  stop(): Promise<void>;
}

/** Real clients for a server at `address`, each on its own channel. */
export function connectClients(address: string): { clients: Clients; close(): void } {
  const raw = [
    new pb.NodeServiceClient(address, credentials.createInsecure()),
    new pb.SafetyStockServiceClient(address, credentials.createInsecure()),
    new pb.SupplyServiceClient(address, credentials.createInsecure()),
    new pb.AvailabilityServiceClient(address, credentials.createInsecure()),
    new pb.DemandServiceClient(address, credentials.createInsecure()),
    new pb.ReservationServiceClient(address, credentials.createInsecure()),
  ] as const;
  return {
    clients: {
      nodes: promisify(raw[0]),
      safetyStock: promisify(raw[1]),
      supply: promisify(raw[2]),
      availability: promisify(raw[3]),
      demand: promisify(raw[4]),
      reservations: promisify(raw[5]),
    },
    close: () => raw.forEach((c) => c.close()),
  };
}

/**
 * `env` overrides configuration; the expiry sweeper, the rebalance scheduler and the rebalance detector are
 * off unless asked for (tests run their rounds explicitly).
 */
export async function startTestService(dialect: Dialect, env: Record<string, string> = {}): Promise<TestService> {
  const database = await createTestDatabase(dialect);
  const config = loadConfig({
    INVENTORY_DATABASE_URL: database.url,
    INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
    INVENTORY_DATABASE_POOL_SIZE: '20',
    INVENTORY_SHUTDOWN_GRACE_MS: '2000',
    INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
    INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: '0',
    INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS: '0',
    ...env,
  });
  const service = await startAllocationService(config, createLogger('allocation-test', 'silent'));
  const address = `127.0.0.1:${service.port}`;
  const connect = () => connectClients(address);
  const main = connect();
  return {
    address,
    database,
    service,
    clients: main.clients,
    connect,
    stop: async () => {
      main.close();
      await service.stop();
      await database.drop();
    },
  };
}

/** Row counts of every table a mutation writes, to prove a refused request changed nothing. */
export async function rowCounts(db: TestDatabase): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    'nodes',
    'distribution_groups',
    'safety_stock',
    'supply',
    'supply_ledger',
    'outbox',
    'idempotency_keys',
    'demand',
    'reservations',
    'reservation_holds',
    'stock_positions',
    'segment_types',
    'segments',
    'consumption_rule_versions',
    'allocation_plan_versions',
    'rebalance_runs',
    'rebalance_schedules',
    'outbox_cursors',
    'rebalance_detections',
  ]) {
    const row = await db.db.knex(table).count({ n: '*' }).first();
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}
