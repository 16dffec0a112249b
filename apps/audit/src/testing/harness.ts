/**
 * The audit app under test: the real allocation app as a child process (the bundle `npm start` runs; the
 * test target builds it first) and the audit app, in this process or as a child process, each over a
 * fresh database, with real grpc-js clients.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { promisify, type Promisified } from '@inventory/grpc-server/testing';
import { createLogger } from '@inventory/runtime';
import type { Dialect } from '@inventory/store';
import { createTestDatabase, type TestDatabase } from '@inventory/store/testing';
import { startAuditService, type RunningAuditService } from '../audit-service';
import { loadAuditConfig } from '../config';

const DIST = join(__dirname, '../../../../dist/apps');

/** A built app running as a child process. */
export class AppProcess {
  private log = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(app: 'allocation' | 'audit', env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(DIST, app, 'main.js')], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    this.child.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  output(): string {
    return this.log;
  }

  /** The port the process logged it listens on. */
  port(): Promise<number> {
    return waitFor(() => {
      const listening = /"port":(\d+)[^\n]*"msg":"listening"/.exec(this.log);
      return listening ? Number(listening[1]) : undefined;
    });
  }

  /** SIGTERM (a graceful stop) or SIGKILL (a crash); resolves once it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Clients of the allocation app. */
export interface InventoryClients {
  readonly nodes: Promisified<pb.NodeServiceClient>;
  readonly supply: Promisified<pb.SupplyServiceClient>;
  readonly segments: Promisified<pb.SegmentServiceClient>;
  readonly plans: Promisified<pb.AllocationPlanServiceClient>;
  readonly rebalance: Promisified<pb.RebalanceServiceClient>;
  readonly rules: Promisified<pb.ConsumptionRuleServiceClient>;
  readonly reservations: Promisified<pb.ReservationServiceClient>;
}

/** The allocation app as a child process over its own fresh database. */
export class AllocationApp {
  readonly address: string;
  readonly clients: InventoryClients;
  private readonly close: () => void;

  private constructor(
    readonly database: TestDatabase,
    private process: AppProcess,
    private readonly port: number,
  ) {
    this.address = `127.0.0.1:${port}`;
    const raw = [
      new pb.NodeServiceClient(this.address, credentials.createInsecure()),
      new pb.SupplyServiceClient(this.address, credentials.createInsecure()),
      new pb.SegmentServiceClient(this.address, credentials.createInsecure()),
      new pb.AllocationPlanServiceClient(this.address, credentials.createInsecure()),
      new pb.RebalanceServiceClient(this.address, credentials.createInsecure()),
      new pb.ConsumptionRuleServiceClient(this.address, credentials.createInsecure()),
      new pb.ReservationServiceClient(this.address, credentials.createInsecure()),
    ] as const;
    this.clients = {
      nodes: promisify(raw[0]),
      supply: promisify(raw[1]),
      segments: promisify(raw[2]),
      plans: promisify(raw[3]),
      rebalance: promisify(raw[4]),
      rules: promisify(raw[5]),
      reservations: promisify(raw[6]),
    };
    this.close = () => raw.forEach((c) => c.close());
  }

  static async start(dialect: Dialect): Promise<AllocationApp> {
    const database = await createTestDatabase(dialect);
    const process = AllocationApp.spawn(database, 0);
    return new AllocationApp(database, process, await AllocationApp.portOf(process));
  }

  private static spawn(database: TestDatabase, port: number): AppProcess {
    return new AppProcess('allocation', {
      INVENTORY_DATABASE_URL: database.url,
      INVENTORY_GRPC_ADDRESS: `127.0.0.1:${port}`,
      INVENTORY_SHUTDOWN_GRACE_MS: '1000',
      INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: '0',
      INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS: '0',
    });
  }

  private static portOf(process: AppProcess): Promise<number> {
    return process.port().catch((err: unknown) => {
      throw new Error(`the allocation app did not start: ${process.output()}`, { cause: err });
    });
  }

  /** Creates DC nodes, and the segments (with their types) that tests name. */
  async define(nodeIds: readonly string[], segments: readonly pb.SegmentKey[] = []): Promise<void> {
    for (const nodeId of nodeIds)
      await this.clients.nodes.createNode({
        requestId: `node-${nodeId}`,
        node: { nodeId, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
      });
    for (const segmentType of new Set(segments.map((s) => s.segmentType)))
      await this.clients.segments.createSegmentType({
        requestId: `type-${segmentType}`,
        segmentType: { segmentType, description: '', createTime: undefined },
      });
    for (const key of segments)
      await this.clients.segments.createSegment({
        requestId: `segment-${key.segmentType}-${key.segment}`,
        segment: pb.Segment.fromPartial(key),
      });
  }

  /** Starts the process again on the same port, after {@link stopProcess}. */
  async restart(): Promise<void> {
    this.process = AllocationApp.spawn(this.database, this.port);
    await AllocationApp.portOf(this.process);
  }

  stopProcess(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    return this.process.stop(signal);
  }

  /**
   * The stream position of the last supply event committed so far, once the sequencer has stamped every
   * committed event (read from the allocation app's database: what the audit must reach).
   */
  async lastSupplySequence(): Promise<number> {
    const knex = this.database.db.knex;
    return waitFor(async () => {
      const unstamped = await knex('outbox').whereNull('stream_sequence').count({ n: '*' }).first();
      if (Number(unstamped?.['n']) > 0) return undefined;
      const last = await knex('outbox')
        .whereIn('event_type', ['supply_changed', 'supply_ignored'])
        .max({ s: 'stream_sequence' })
        .first();
      return Number(last?.['s'] ?? 0);
    });
  }

  async stop(): Promise<void> {
    this.close();
    await this.process.stop();
    await this.database.drop();
  }
}

/** Clients of the audit app. */
export interface AuditClients {
  readonly audit: Promisified<pb.auditV1.AuditServiceClient>;
  readonly admin: Promisified<pb.auditV1.AuditAdminServiceClient>;
  readonly counts: Promisified<pb.auditV1.CycleCountServiceClient>;
  readonly compliance: Promisified<pb.auditV1.ComplianceServiceClient>;
  close(): void;
}

export function connectAudit(address: string): AuditClients {
  const audit = new pb.auditV1.AuditServiceClient(address, credentials.createInsecure());
  const admin = new pb.auditV1.AuditAdminServiceClient(address, credentials.createInsecure());
  const counts = new pb.auditV1.CycleCountServiceClient(address, credentials.createInsecure());
  const compliance = new pb.auditV1.ComplianceServiceClient(address, credentials.createInsecure());
  return {
    audit: promisify(audit),
    admin: promisify(admin),
    counts: promisify(counts),
    compliance: promisify(compliance),
    close: () => [audit, admin, counts, compliance].forEach((c) => c.close()),
  };
}

/** The settings an audit app under test runs with. */
export function auditEnv(database: TestDatabase, inventoryAddress: string): Record<string, string> {
  return {
    AUDIT_DATABASE_URL: database.url,
    AUDIT_GRPC_ADDRESS: '127.0.0.1:0',
    AUDIT_INVENTORY_ADDRESS: inventoryAddress,
    AUDIT_SHUTDOWN_GRACE_MS: '1000',
    AUDIT_RECONNECT_MAX_MS: '500',
  };
}

export interface TestAudit {
  readonly service: RunningAuditService;
  readonly database: TestDatabase;
  readonly clients: AuditClients;
  stop(): Promise<void>;
}

/** The audit app in this process over `database` (which stop leaves in place), consuming `inventoryAddress`. */
export async function startAuditOn(database: TestDatabase, inventoryAddress: string): Promise<TestAudit> {
  const config = loadAuditConfig(auditEnv(database, inventoryAddress));
  const service = await startAuditService(config, createLogger('audit-test', 'silent'));
  const clients = connectAudit(`127.0.0.1:${service.port}`);
  return {
    service,
    database,
    clients,
    stop: async () => {
      clients.close();
      await service.stop();
    },
  };
}

/** The audit app in this process over a fresh database, consuming `inventoryAddress`. */
export async function startAudit(dialect: Dialect, inventoryAddress: string): Promise<TestAudit> {
  const database = await createTestDatabase(dialect);
  const audit = await startAuditOn(database, inventoryAddress);
  return {
    ...audit,
    stop: async () => {
      await audit.stop();
      await database.drop();
    },
  };
}

/** Waits until the audit has consumed every supply event the allocation app has committed so far. */
export async function caughtUp(app: AllocationApp, clients: AuditClients): Promise<number> {
  const last = await app.lastSupplySequence();
  return waitFor(async () => {
    const status = await clients.admin.getConsumerStatus({});
    return status.consumedSequence >= last ? status.consumedSequence : undefined;
  });
}
