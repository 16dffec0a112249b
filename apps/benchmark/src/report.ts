/**
 * What a run found, for three readers: a person at the terminal (targets as PASS/MISS lines, checks), the
 * BENCHMARKS.md page (a Markdown table to paste, with the machine line and notes) and tools (JSON).
 */
import { writeFile } from 'node:fs/promises';
import type { Check } from './check';
import type { EchoSizes } from './echo';
import type { Scenario, Target } from './flags';
import type { LoadResult } from './load';
import { machineLine, type Machine } from './machine';
import type { RebalanceMeasurement } from './rebalance';
import { rebalanceGoals, rebalanceMarkdown } from './rebalance-report';
import { baselineScenario } from './scenario';
import type { WatchMeasurement } from './watch';
import { watchGoals, watchMarkdown } from './watch-report';
import type { AuditMeasurement } from './audit';
import { auditGoals, auditMarkdown } from './audit-report';

/** One target measured in one scenario. B2 touches no data: it is measured once, for 'both' scenarios. */
export interface Measurement {
  readonly target: Target;
  readonly scenario: Scenario | 'both';
  readonly load: LoadResult;
}

/** A performance target from the issue, and whether this run met it. */
export interface Goal {
  readonly name: string;
  readonly status: 'PASS' | 'MISS' | 'SKIP';
  readonly detail: string;
}

export interface Report {
  readonly machine: Machine;
  readonly settings: {
    readonly callers: number;
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly scenarios: readonly Scenario[];
    readonly targets: readonly Target[];
    /** mysql2 pool size of B1 and B3: one connection per caller. */
    readonly baselinePoolSize: number;
    /** The service's INVENTORY_DATABASE_POOL_SIZE. */
    readonly servicePoolSize: number;
  };
  readonly echoSizes?: EchoSizes;
  readonly measurements: readonly Measurement[];
  /** The rebalance scenario, once per page size; empty when it did not run. */
  readonly rebalance: readonly RebalanceMeasurement[];
  /** The watch scenario; undefined when it did not run. */
  readonly watch?: WatchMeasurement;
  /** The audit scenario; undefined when it did not run. */
  readonly audit?: AuditMeasurement;
  readonly checks: readonly Check[];
}

const LABELS: Record<Target, string> = {
  b1: 'B1 raw UPDATE (one statement, autocommit)',
  b2: 'B2 bare gRPC echo',
  b3: 'B3 BEGIN; SELECT FOR UPDATE; UPDATE; INSERT; COMMIT',
  previous: 'Service, earlier build (--previous-build)',
  service: 'Service Reserve over gRPC',
};

/**
 * The measurement of `target` that applies to `scenario`: B2's single one for any; for B1 and B3, that of
 * the scenario they stand in for (hot for hot-borrow).
 */
export function measurementFor(
  measurements: readonly Measurement[],
  target: Target,
  scenario: Scenario,
): Measurement | undefined {
  const measured = target === 'b1' || target === 'b3' ? baselineScenario(scenario) : scenario;
  return measurements.find((m) => m.target === target && (m.scenario === measured || m.scenario === 'both'));
}

/** Reservations per second of `m` over those of `baseline` in the same scenario. */
function ratio(
  measurements: readonly Measurement[],
  m: Measurement,
  scenario: Scenario,
  baseline: Target,
): number | undefined {
  const base = measurementFor(measurements, baseline, scenario);
  return base && base.load.perSecond > 0 ? m.load.perSecond / base.load.perSecond : undefined;
}

/**
 * The issues' targets: hot ≥ 0.6×B2 and ≥ 2.5×B3; spread ≥ 0.6×B2; p99 ≤ 2×B2's p99; hot-borrow ≥ 0.8×hot
 * (the service in both, in the same run).
 */
export function evaluateGoals(report: Report): Goal[] {
  const goals: Goal[] = [];
  const { measurements, settings } = report;
  const throughput = (scenario: Scenario, baseline: 'b2' | 'b3', factor: number) => {
    const name = `${scenario}: service >= ${factor} x ${baseline.toUpperCase()} reservations/s`;
    const service = measurementFor(measurements, 'service', scenario);
    const base = measurementFor(measurements, baseline, scenario);
    if (!service || !base) return goals.push({ name, status: 'SKIP', detail: 'not measured in this run' });
    const needed = factor * base.load.perSecond;
    goals.push({
      name,
      status: service.load.perSecond >= needed && service.load.successes > 0 ? 'PASS' : 'MISS',
      detail: `${fmtRate(service.load.perSecond)}/s vs needed ${fmtRate(needed)}/s (${baseline.toUpperCase()} ${fmtRate(base.load.perSecond)}/s)`,
    });
  };
  const latency = (scenario: Scenario) => {
    const name = `${scenario}: service p99 <= 2 x B2 p99 at ${settings.callers} callers`;
    const service = measurementFor(measurements, 'service', scenario);
    const echo = measurementFor(measurements, 'b2', scenario);
    if (!service || !echo) return goals.push({ name, status: 'SKIP', detail: 'not measured in this run' });
    const limit = 2 * echo.load.p99Ms;
    goals.push({
      name,
      status: service.load.p99Ms <= limit ? 'PASS' : 'MISS',
      detail: `p99 ${fmtMs(service.load.p99Ms)} ms vs limit ${fmtMs(limit)} ms (B2 p99 ${fmtMs(echo.load.p99Ms)} ms)`,
    });
  };
  // A change on the reservation path must not make it slower than the build before it (within run-to-run noise).
  const noWorse = (scenario: Scenario) => {
    const service = measurementFor(measurements, 'service', scenario);
    const previous = measurementFor(measurements, 'previous', scenario);
    if (!service || !previous) return;
    const r = previous.load.perSecond > 0 ? service.load.perSecond / previous.load.perSecond : NaN;
    goals.push({
      name: `${scenario}: service >= 0.95 x the earlier build`,
      status: r >= 0.95 ? 'PASS' : 'MISS',
      detail:
        `${fmtRate(service.load.perSecond)}/s vs ${fmtRate(previous.load.perSecond)}/s (${fmtRatio(r)}); ` +
        `p99 ${fmtMs(service.load.p99Ms)} vs ${fmtMs(previous.load.p99Ms)} ms; ` +
        `server CPU ${fmtCpu(service.load.serverCpuMsPerCall)} vs ${fmtCpu(previous.load.serverCpuMsPerCall)} ms per reservation`,
    });
  };
  for (const scenario of settings.scenarios) noWorse(scenario);
  if (settings.scenarios.includes('hot')) {
    throughput('hot', 'b2', 0.6);
    throughput('hot', 'b3', 2.5);
    latency('hot');
  }
  if (settings.scenarios.includes('spread')) {
    throughput('spread', 'b2', 0.6);
    latency('spread');
  }
  if (settings.scenarios.includes('hot-borrow')) borrowing(measurements, goals);
  goals.push(...rebalanceGoals(report.rebalance));
  goals.push(...watchGoals(report.watch));
  goals.push(...auditGoals(report.audit));
  return goals;
}

/** Borrowing every unit from the pool costs at most a fifth of hot's throughput: hot-borrow ≥ 0.8 × hot. */
function borrowing(measurements: readonly Measurement[], goals: Goal[]): void {
  const factor = 0.8;
  const name = `hot-borrow: service >= ${factor} x hot service reservations/s`;
  const borrowed = measurementFor(measurements, 'service', 'hot-borrow');
  const hot = measurementFor(measurements, 'service', 'hot');
  if (!borrowed || !hot)
    return void goals.push({ name, status: 'SKIP', detail: 'needs hot and hot-borrow in the run' });
  const r = hot.load.perSecond > 0 ? borrowed.load.perSecond / hot.load.perSecond : NaN;
  goals.push({
    name,
    status: r >= factor && borrowed.load.successes > 0 ? 'PASS' : 'MISS',
    detail:
      `${fmtRate(borrowed.load.perSecond)}/s vs hot ${fmtRate(hot.load.perSecond)}/s (${fmtRatio(r)}); ` +
      `p99 ${fmtMs(borrowed.load.p99Ms)} vs ${fmtMs(hot.load.p99Ms)} ms; ` +
      `server CPU ${fmtCpu(borrowed.load.serverCpuMsPerCall)} vs ${fmtCpu(hot.load.serverCpuMsPerCall)} ms per reservation`,
  });
}

/** The Markdown section for BENCHMARKS.md: machine line, results tables, notes. */
export function markdown(report: Report): string {
  const { measurements, settings } = report;
  const rows: string[] = [
    '| Scenario | Target | Reservations/s | p50 ms | p99 ms | Failures | vs B1 | vs B2 | vs B3 | server CPU ms/call |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of settings.scenarios) {
    for (const target of settings.targets) {
      const m = measurementFor(measurements, target, scenario);
      // A baseline measured for another scenario of the run is listed there, once.
      if (!m || (m.scenario !== scenario && m.scenario !== 'both' && settings.scenarios.includes(m.scenario))) continue;
      const x = (baseline: Target) => fmtRatio(ratio(measurements, m, scenario, baseline));
      rows.push(
        `| ${scenario} | ${LABELS[target]}${target === 'b2' ? ' (measured once)' : ''} | ${fmtRate(m.load.perSecond)} | ${fmtMs(m.load.p50Ms)} | ${fmtMs(m.load.p99Ms)} | ${m.load.failureCount} | ${x('b1')} | ${x('b2')} | ${x('b3')} | ${fmtCpu(m.load.serverCpuMsPerCall)} |`,
      );
    }
  }
  const notes = [
    `${settings.callers} concurrent callers, closed loop (each caller makes its next call when the last one returns); ${settings.seconds} s measured after ${settings.warmupSeconds} s of warm-up. Latency percentiles are nearest-rank over the measured successes.`,
    `hot: every call reserves 1 unit of one item at one node; spread: a random one of 10,000 item-nodes (100 items x 100 nodes; B1 and B3: a random one of 10,000 rows).`,
    settings.scenarios.includes('hot-borrow')
      ? `hot-borrow: as hot, in a segment that has no supply of its own and borrows every unit from the unsegmented pool at that item-node (borrowing on, no cap or floor); its B1 and B3 ratios are against their hot measurements.`
      : undefined,
    settings.targets.includes('b1') || settings.targets.includes('b3')
      ? `B1 and B3 use a mysql2 pool of ${settings.baselinePoolSize} connections (one per caller); B3 runs at MariaDB's default isolation level and takes a pooled connection per transaction.`
      : undefined,
    settings.targets.includes('previous')
      ? 'The earlier build runs on a fresh database right before the current one in each scenario, with the same settings and client.'
      : undefined,
    settings.targets.includes('service')
      ? `The service runs as a child process on its own database with its own pool of ${settings.servicePoolSize} connections (INVENTORY_DATABASE_POOL_SIZE); it is seeded and called through its gRPC API.`
      : undefined,
    report.echoSizes
      ? `B2 touches no data, so it is measured once and compared against in both scenarios. It moves ${report.echoSizes.requestBytes} request and ${report.echoSizes.responseBytes} response bytes per call, the encoded sizes of a typical ReserveRequest and ReserveResponse, over the same client set-up as the service target.`
      : undefined,
    `The load client, the server (a child process) and MariaDB share this machine's ${report.machine.cores} cores. Server CPU is the service process's user and system time over the measured window (from /proc) per measured success.`,
    report.measurements.some((m) => m.load.databasePerCall)
      ? `Database statements are MariaDB's global Com_* counters over the measured window per measured success (START TRANSACTION, SELECT, INSERT, UPDATE, DELETE, COMMIT, ROLLBACK; every client of the server counts).`
      : undefined,
  ].filter((n): n is string => n !== undefined);
  const reservations =
    settings.scenarios.length > 0 ? [...rows, '', ...databaseWork(report), ...notes.map((n) => `- ${n}`)] : [];
  const rebalancing =
    report.rebalance.length > 0 ? ['', 'Rebalancing:', '', ...rebalanceMarkdown(report.rebalance)] : [];
  const watching = report.watch ? ['', 'Availability watches:', '', ...watchMarkdown(report.watch)] : [];
  const auditing = report.audit ? ['', 'Audit ingest:', '', ...auditMarkdown(report.audit)] : [];
  return [machineLine(report.machine), '', ...reservations, ...rebalancing, ...watching, ...auditing].join('\n');
}

/** What the database ran per reservation in each service measurement, when the counters could be read. */
function databaseWork(report: Report): string[] {
  const measured = report.measurements.filter((m) => m.load.databasePerCall);
  if (measured.length === 0) return [];
  const n = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  return [
    '| Scenario | Target | DB statements/call | SELECT | INSERT | UPDATE | ROLLBACK | calls/COMMIT |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...measured.map((m) => {
      const d = m.load.databasePerCall!;
      return `| ${m.scenario} | ${LABELS[m.target]} | ${n(d.statements)} | ${n(d.selects)} | ${n(d.inserts)} | ${n(d.updates)} | ${n(d.rollbacks)} | ${n(d.callsPerCommit)} |`;
    }),
    '',
  ];
}

/** Everything, for tools: settings, machine, each measurement with its ratios, the targets and the checks. */
export async function writeJson(path: string, report: Report): Promise<void> {
  const measurements = report.measurements.map((m) => {
    const scenarios = m.scenario === 'both' ? report.settings.scenarios : [m.scenario];
    const ratios = Object.fromEntries(
      scenarios.map((s) => [
        s,
        {
          b1: ratio(report.measurements, m, s, 'b1') ?? null,
          b2: ratio(report.measurements, m, s, 'b2') ?? null,
          b3: ratio(report.measurements, m, s, 'b3') ?? null,
        },
      ]),
    );
    return { target: m.target, scenario: m.scenario, ...m.load, ratios };
  });
  const json = { ...report, measurements, goals: evaluateGoals(report), passed: report.checks.every((c) => c.ok) };
  // NaN (no successes) is not JSON; write null.
  await writeFile(
    path,
    `${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
}

/** Failure counts per measurement, one line each; empty when nothing failed. */
export function failureLines(measurements: readonly Measurement[]): string[] {
  return measurements
    .filter((m) => m.load.totalFailures > 0)
    .map(
      (m) =>
        `${m.target} ${m.scenario}: ${m.load.failureCount} measured failures (${m.load.totalFailures} in the whole run)` +
        (m.load.failureCount > 0
          ? `: ${Object.entries(m.load.failures)
              .sort((a, b) => b[1] - a[1])
              .map(([kind, n]) => `${kind} x${n}`)
              .join(', ')}`
          : ''),
    );
}

export function fmtRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? ms.toFixed(2) : '-';
}

function fmtCpu(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(3);
}

function fmtRatio(r: number | undefined): string {
  return r === undefined ? '-' : `${r.toFixed(2)}x`;
}
