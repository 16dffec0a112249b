/**
 * The audit scenario: does the audit app keep up with the allocation app? Both run as child processes on
 * fresh MariaDB databases of their own; supply adjusts of `linesPerCall` lines each (one supply change per
 * line) are what changes. In one run:
 *
 * 1. commit rate (the baseline): `callers` callers commit adjusts as fast as the allocation app takes them,
 *    with the audit app not running;
 * 2. catch-up rate: the audit app, started on what that left, stores it at this rate (its capacity);
 * 3. live: both running, adjusts paced at half the full commit rate; the records stored per second over the
 *    window, the most they trail the commits, and how soon after the last commit all are stored.
 *
 * Afterwards the audit database must hold exactly one record per supply change (checked by stream position).
 */
import { join } from 'node:path';
import type { Channel } from '@grpc/grpc-js';
import type { RowDataPacket } from 'mysql2/promise';
import { auditV1, NodeServiceClient, NodeType, SupplyServiceClient, SupplyType } from '@inventory/contracts';
import { check, type Check } from './check';
import { freePort, sleep, spawnNodeServer, type ChildServer } from './child-server';
import { callUnary, clientOn, describeGrpcFailure, openChannel } from './grpc-client';
import { runClosedLoop, type LoadPlan } from './load';
import { connect } from './mysql';
import { SERVICE_DATABASE, ServiceUnderTest } from './service';

/** The audit app's database; dropped and created afresh by every run. */
export const AUDIT_DATABASE = 'inventory_bench_audit';
/** Items the adjusts spread over, at one node. */
const ITEMS = 1000;

export interface AuditSettings {
  readonly mysqlUrl: string;
  readonly servicePoolSize: number;
  readonly callers: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Supply lines per AdjustSupply call. */
  readonly linesPerCall: number;
}

export interface AuditMeasurement {
  readonly callers: number;
  readonly linesPerCall: number;
  readonly seconds: number;
  /** Supply changes the allocation app committed per second at full load, the audit app not running: the baseline. */
  readonly commitPerSecond: number;
  /** What that load left for the audit app to store. */
  readonly backlogRecords: number;
  /** Records per second the audit app then stored, from its start until the backlog was stored. */
  readonly catchUpPerSecond: number;
  /** Supply changes committed per second while both ran, paced at half the full rate. */
  readonly liveCommitPerSecond: number;
  /** Audit records stored per second over the same window. */
  readonly liveIngestPerSecond: number;
  /** The most records the audit app was behind the commits, sampled every 100 ms of the window. */
  readonly maxLagRecords: number;
  /** How long after the last paced commit the audit app had stored everything, in milliseconds. */
  readonly drainMs: number;
}

export async function measureAudit(
  settings: AuditSettings,
  log: (line: string) => void,
): Promise<{ measurement?: AuditMeasurement; checks: Check[] }> {
  log(`audit: starting the allocation service on a fresh ${SERVICE_DATABASE} database`);
  let service: ServiceUnderTest;
  try {
    service = await ServiceUnderTest.start({ mysqlUrl: settings.mysqlUrl, poolSize: settings.servicePoolSize });
  } catch (err) {
    return { checks: [check('audit: start the allocation service', false, (err as Error).message)] };
  }
  const channel = openChannel(service.address);
  const audit = new AuditApp(settings.mysqlUrl, service.address);
  try {
    const supply = clientOn(SupplyServiceClient, channel);
    const nodes = clientOn(NodeServiceClient, channel);
    await callUnary(nodes.createNode.bind(nodes), {
      requestId: 'audit-bench-node',
      node: {
        nodeId: 'AUDIT_NODE',
        nodeType: NodeType.NODE_TYPE_DC,
        description: 'audit benchmark',
        createTime: undefined,
      },
    });
    const adjust = supply.adjustSupply.bind(supply);
    const plan: LoadPlan = {
      callers: settings.callers,
      warmupSeconds: settings.warmupSeconds,
      seconds: settings.seconds,
    };
    const attempt = (tag: string) => async (caller: number, sequence: number) => {
      await callUnary(adjust, {
        requestId: `${tag}-${caller}-${sequence}`,
        lines: Array.from({ length: settings.linesPerCall }, () => ({
          key: {
            item: { itemId: `AUDIT_ITEM_${Math.floor(Math.random() * ITEMS)}`, unitOfMeasure: '', productClass: '' },
            nodeId: 'AUDIT_NODE',
            segment: undefined,
            supplyType: SupplyType.SUPPLY_TYPE_ONHAND,
            etaTime: undefined,
          },
          quantityDelta: 1,
          sourceTime: new Date(),
          reason: '',
        })),
      });
    };

    // 1. The allocation app's full rate, with the audit app not running: the baseline, and a backlog.
    log(
      `audit backlog: ${settings.callers} callers, ${settings.linesPerCall} supply lines per AdjustSupply, audit app not running`,
    );
    const backlog = await runClosedLoop(plan, attempt('backlog'), describeGrpcFailure);
    const backlogRecords = backlog.totalSuccesses * settings.linesPerCall;
    const commitPerSecond = (backlog.successes * settings.linesPerCall) / backlog.seconds;

    // 2. The audit app started on that backlog: its capacity, with the machine to itself.
    const catchUpStarted = Date.now();
    await audit.start();
    await waitFor(async () => (await audit.recordsStored()) >= backlogRecords, 300_000);
    const catchUpMs = Date.now() - catchUpStarted;
    const catchUpPerSecond = backlogRecords / (catchUpMs / 1000);
    log(
      `  committed ${Math.round(commitPerSecond)} supply changes/s; the backlog of ${backlogRecords} stored in ${catchUpMs} ms: ${Math.round(catchUpPerSecond)} records/s, start-up included`,
    );

    // 3. Both running, commits paced at half the full rate: does the audit app keep pace while it shares the machine?
    const pacedCallsPerSecond = Math.max(1, commitPerSecond / 2 / settings.linesPerCall);
    log(
      `audit live: ${Math.round(pacedCallsPerSecond * settings.linesPerCall)} supply changes/s offered, audit app consuming`,
    );
    const storedBefore = await audit.recordsStored();
    const samples: Array<{ atMs: number; stored: number }> = [];
    let committed = 0;
    let maxLag = 0;
    let sampling = true;
    const startedAt = Date.now();
    const windowFrom = startedAt + settings.warmupSeconds * 1000;
    const windowUntil = windowFrom + settings.seconds * 1000;
    const sampler = (async () => {
      while (sampling) {
        const stored = (await audit.recordsStored()) - storedBefore;
        const atMs = Date.now();
        samples.push({ atMs, stored });
        if (atMs >= windowFrom && atMs <= windowUntil) maxLag = Math.max(maxLag, committed - stored);
        await sleep(100);
      }
    })();
    const paced = await runPaced(pacedCallsPerSecond, windowUntil, async (n) => {
      await attempt('live')(0, n);
      committed += settings.linesPerCall;
    });
    const lastCommitAt = Date.now();
    await waitFor(async () => (await audit.recordsStored()) - storedBefore >= committed, 120_000);
    const drainMs = Date.now() - lastCommitAt;
    sampling = false;
    await sampler;
    const storedAt = (t: number) => interpolate(samples, t);
    const liveIngestPerSecond = (storedAt(windowUntil) - storedAt(windowFrom)) / settings.seconds;
    const liveCommitPerSecond =
      (paced.committedBetween(windowFrom, windowUntil) * settings.linesPerCall) / settings.seconds;
    log(
      `  committed ${Math.round(liveCommitPerSecond)} supply changes/s, stored ${Math.round(liveIngestPerSecond)} records/s, at most ${maxLag} behind, all stored ${drainMs} ms after the last commit`,
    );

    const exact = await audit.exactlyOnePerChange(settings.mysqlUrl);
    return {
      measurement: {
        callers: settings.callers,
        linesPerCall: settings.linesPerCall,
        seconds: settings.seconds,
        commitPerSecond,
        backlogRecords,
        catchUpPerSecond,
        liveCommitPerSecond,
        liveIngestPerSecond,
        maxLagRecords: maxLag,
        drainMs,
      },
      checks: [
        check(
          'audit: one record per supply change',
          exact.ok,
          `${exact.records} records, ${exact.changes} supply changes in the allocation app's stream`,
        ),
        check(
          'audit: no failed adjust',
          paced.failures + backlog.totalFailures === 0,
          `${paced.failures + backlog.totalFailures} failures`,
        ),
      ],
    };
  } catch (err) {
    return { checks: [check('audit: run', false, describeGrpcFailure(err))] };
  } finally {
    await audit.stop();
    channel.close();
    await service.stop();
  }
}

/** The audit app as a child process, with its consumer status read over gRPC. */
class AuditApp {
  private server: ChildServer | undefined;
  private channel: Channel | undefined;
  private admin: auditV1.AuditAdminServiceClient | undefined;
  private address = '';

  constructor(
    private readonly mysqlUrl: string,
    private readonly inventoryAddress: string,
  ) {}

  /** Starts it; the first start creates its database afresh. */
  async start(): Promise<void> {
    if (this.server) throw new Error('the audit app is already running');
    if (this.address === '') {
      const admin = await connect(this.mysqlUrl);
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${AUDIT_DATABASE}\``);
        await admin.query(`CREATE DATABASE \`${AUDIT_DATABASE}\` CHARACTER SET utf8mb4`);
      } finally {
        await admin.end();
      }
      this.address = `127.0.0.1:${await freePort()}`;
    }
    this.server = spawnNodeServer('audit', [join(__dirname, '..', 'audit', 'main.js')], {
      AUDIT_DATABASE_URL: `${this.mysqlUrl}/${AUDIT_DATABASE}`,
      AUDIT_GRPC_ADDRESS: this.address,
      AUDIT_INVENTORY_ADDRESS: this.inventoryAddress,
      AUDIT_LOG_LEVEL: 'warn',
    });
    this.channel = openChannel(this.address);
    this.admin = clientOn(auditV1.AuditAdminServiceClient, this.channel);
    await Promise.race([waitFor(async () => (await this.status()) !== undefined, 60_000), this.server.died]);
  }

  /** Records it stored since it (last) started; 0 while it does not answer. */
  async recordsStored(): Promise<number> {
    return (await this.status())?.recordsStored ?? 0;
  }

  private async status(): Promise<auditV1.GetConsumerStatusResponse | undefined> {
    const admin = this.admin;
    if (!admin) return undefined;
    try {
      return await callUnary(admin.getConsumerStatus.bind(admin), {});
    } catch {
      return undefined;
    }
  }

  /** Whether its records are exactly the allocation app's supply events, by stream position. */
  async exactlyOnePerChange(mysqlUrl: string): Promise<{ ok: boolean; records: number; changes: number }> {
    const conn = await connect(mysqlUrl);
    try {
      const [[changes]] = await conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COALESCE(SUM(stream_sequence), 0) AS s FROM \`${SERVICE_DATABASE}\`.outbox WHERE event_type IN ('supply_changed', 'supply_ignored')`,
      );
      const [[records]] = await conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT sequence) AS d, COALESCE(SUM(sequence), 0) AS s FROM \`${AUDIT_DATABASE}\`.audit_supply_records`,
      );
      const [n, m] = [Number(changes?.['n']), Number(records?.['n'])];
      const ok = n === m && Number(records?.['d']) === m && String(changes?.['s']) === String(records?.['s']);
      return { ok, records: m, changes: n };
    } finally {
      await conn.end();
    }
  }

  async stop(): Promise<void> {
    this.channel?.close();
    this.channel = undefined;
    this.admin = undefined;
    await this.server?.stop();
    this.server = undefined;
  }
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** The stored count at time `t`, interpolated between the samples around it. */
function interpolate(samples: ReadonlyArray<{ atMs: number; stored: number }>, t: number): number {
  const after = samples.findIndex((s) => s.atMs >= t);
  if (after <= 0) return after === 0 ? samples[0]!.stored : (samples[samples.length - 1]?.stored ?? 0);
  const [a, b] = [samples[after - 1]!, samples[after]!];
  return a.stored + ((b.stored - a.stored) * (t - a.atMs)) / (b.atMs - a.atMs);
}

/**
 * Open loop: starts one call every 1/`perSecond` s until `untilMs`, whatever the calls in flight, and waits
 * for them all. Says how many succeeded, and how many of those completed inside a window.
 */
async function runPaced(
  perSecond: number,
  untilMs: number,
  call: (n: number) => Promise<void>,
): Promise<{ failures: number; committedBetween(fromMs: number, toMs: number): number }> {
  const completedAt: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  let failures = 0;
  const started = Date.now();
  for (let n = 0; ; n++) {
    const due = started + (n * 1000) / perSecond;
    if (due >= untilMs) break;
    if (due > Date.now()) await sleep(due - Date.now());
    inFlight.push(
      call(n).then(
        () => void completedAt.push(Date.now()),
        () => void failures++,
      ),
    );
  }
  await Promise.all(inFlight);
  return {
    failures,
    committedBetween: (fromMs, toMs) => completedAt.filter((t) => t >= fromMs && t < toMs).length,
  };
}
