/**
 * `npm run bench`: measures the reservation service against three baselines on the same machine, with the
 * same client concurrency, and verifies afterwards that nothing was oversold and every success is stored.
 * With `--scenarios rebalance`, also times a rebalance of many item-nodes against raw mysql2 doing the same
 * reads and writes, and verifies every item-node afterwards. With `--scenarios watch`, also measures
 * AvailabilityService.WatchAvailability (commit-to-watcher latency, memory per idle watcher) against a bare
 * grpc-js fan-out server. With the audit scenario (on by default), also measures the audit app's ingest against
 * the allocation app's commit rate. Exits non-zero when a check fails (the targets are reported, not enforced).
 */
import { measureAudit, type AuditMeasurement } from './audit';
import { check, type Check } from './check';
import { measureEcho, type EchoSizes } from './echo';
import { ECHO_SERVER_FLAG, runEchoServer } from './echo-server';
import { parseFlags, USAGE, UsageError, type BenchOptions, type Scenario, type Target } from './flags';
import type { LoadPlan, LoadResult } from './load';
import { describeMachine } from './machine';
import { ensureBaselineDatabase } from './mysql';
import { measureRawUpdate } from './raw-update';
import { measureRebalance, type RebalanceMeasurement } from './rebalance';
import {
  evaluateGoals,
  failureLines,
  fmtMs,
  fmtRate,
  markdown,
  writeJson,
  type Measurement,
  type Report,
} from './report';
import { measureSelectForUpdate } from './select-for-update';
import { baselineScenario } from './scenario';
import { ServiceUnderTest } from './service';
import { measureWatch, type WatchMeasurement } from './watch';
import { FANOUT_SERVER_FLAG, runFanoutServer } from './watch-fanout-server';

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes(ECHO_SERVER_FLAG)) {
    await runEchoServer();
    return -1; // Keeps serving until SIGTERM.
  }
  if (argv.includes(FANOUT_SERVER_FLAG)) {
    await runFanoutServer();
    return -1;
  }
  const options = parseFlags(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }

  const plan: LoadPlan = { callers: options.callers, seconds: options.seconds, warmupSeconds: options.warmupSeconds };
  const machine = await describeMachine(options.mysqlUrl);
  const measurements: Measurement[] = [];
  const checks: Check[] = [];
  let echoSizes: EchoSizes | undefined;
  const record = (target: Target, scenario: Scenario | 'both', load: LoadResult) => {
    measurements.push({ target, scenario, load });
    log(
      `  ${target} ${scenario}: ${fmtRate(load.perSecond)} reservations/s, p50 ${fmtMs(load.p50Ms)} ms, p99 ${fmtMs(load.p99Ms)} ms, ${load.failureCount} failures`,
    );
  };
  log(`${plan.callers} callers, ${plan.warmupSeconds} s warm-up + ${plan.seconds} s measured per target and scenario`);

  // B2 touches no data: it only stands beside the reservation scenarios.
  if (options.targets.includes('b2') && options.scenarios.length > 0) {
    log('b2: bare gRPC echo server (child process)');
    const echo = await measureEcho(plan);
    echoSizes = echo.sizes;
    record('b2', 'both', echo.load);
  }

  if (options.targets.includes('b1') || options.targets.includes('b3')) await ensureBaselineDatabase(options.mysqlUrl);
  // B1 and B3 know no segments: hot-borrow is compared with their hot measurements (once for both).
  for (const scenario of [...new Set(options.scenarios.map(baselineScenario))]) {
    if (options.targets.includes('b1')) {
      log(`b1 ${scenario}: raw autocommit UPDATE`);
      const b1 = await measureRawUpdate(options.mysqlUrl, scenario, plan);
      record('b1', scenario, b1.load);
      checks.push(...b1.checks);
    }
    if (options.targets.includes('b3')) {
      log(`b3 ${scenario}: BEGIN; SELECT FOR UPDATE; UPDATE; INSERT; COMMIT`);
      const b3 = await measureSelectForUpdate(options.mysqlUrl, scenario, plan);
      record('b3', scenario, b3.load);
      checks.push(...b3.checks);
    }
  }

  // The earlier build runs right before the current one in each scenario, so that both see the same machine.
  for (const scenario of options.scenarios) {
    if (options.targets.includes('previous') && options.previousBuild)
      checks.push(...(await measureService('previous', options.previousBuild, scenario, options, plan, record)));
    if (options.targets.includes('service'))
      checks.push(...(await measureService('service', undefined, scenario, options, plan, record)));
  }

  const rebalance: RebalanceMeasurement[] = [];
  for (const pageSize of options.rebalance?.pageSizes ?? []) {
    const settings = { mysqlUrl: options.mysqlUrl, servicePoolSize: options.servicePoolSize, ...options.rebalance! };
    const result = await measureRebalance(settings, pageSize, log);
    if (result.measurement) rebalance.push(result.measurement);
    checks.push(...result.checks);
  }

  let watch: WatchMeasurement | undefined;
  if (options.watch) {
    const result = await measureWatch(
      {
        ...options.watch,
        mysqlUrl: options.mysqlUrl,
        servicePoolSize: options.servicePoolSize,
        warmupSeconds: options.warmupSeconds,
        seconds: options.seconds,
      },
      log,
    );
    watch = result.measurement;
    checks.push(...result.checks);
    for (const [target, l] of Object.entries(watch.latency))
      if (l)
        log(
          `  ${target} watch: p50 ${fmtMs(l.p50Ms)} ms, p99 ${fmtMs(l.p99Ms)} ms, max ${fmtMs(l.maxMs)} ms, ${l.received} of ${l.expected} updates received`,
        );
    for (const [target, m] of Object.entries(watch.memory))
      if (m) log(`  ${target} idle: ${Math.round(m.rssBytesPerWatcher)} RSS bytes per watcher`);
  }

  let audit: AuditMeasurement | undefined;
  if (options.audit) {
    const result = await measureAudit(
      {
        mysqlUrl: options.mysqlUrl,
        servicePoolSize: options.servicePoolSize,
        callers: options.callers,
        warmupSeconds: options.warmupSeconds,
        seconds: options.seconds,
        linesPerCall: options.audit.linesPerCall,
      },
      log,
    );
    audit = result.measurement;
    checks.push(...result.checks);
  }

  const report: Report = {
    machine,
    settings: {
      callers: options.callers,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      scenarios: options.scenarios,
      targets: options.targets,
      baselinePoolSize: options.callers,
      servicePoolSize: options.servicePoolSize,
    },
    echoSizes,
    measurements,
    rebalance,
    watch,
    audit,
    checks,
  };
  console.log(`\n${markdown(report)}\n`);
  const failures = failureLines(measurements);
  if (failures.length > 0) console.log(['Failures:', ...failures.map((f) => `  ${f}`), ''].join('\n'));
  console.log(['Targets:', ...evaluateGoals(report).map((g) => `  ${g.status} ${g.name}: ${g.detail}`), ''].join('\n'));
  const checkLines = checks.map((c) => `  ${c.ok ? 'OK    ' : 'FAILED'} ${c.name}: ${c.detail}`);
  console.log(
    ['Checks:', ...(checkLines.length > 0 ? checkLines : ['  (none: no target in this run stores anything)'])].join(
      '\n',
    ),
  );
  if (options.jsonPath) {
    await writeJson(options.jsonPath, report);
    console.log(`\nResults written to ${options.jsonPath}`);
  }
  const ok = checks.every((c) => c.ok);
  if (!ok) console.error('\nA check failed: see above.');
  return ok ? 0 : 1;
}

/**
 * Runs a service target (the current build, or an earlier one) for one scenario on a fresh service process
 * and database. A service that cannot start or be seeded is a failed check, not a crash, so the
 * measurements so far are still reported.
 */
async function measureService(
  target: 'service' | 'previous',
  entry: string | undefined,
  scenario: Scenario,
  options: BenchOptions,
  plan: LoadPlan,
  record: (target: Target, scenario: Scenario, load: LoadResult) => void,
): Promise<Check[]> {
  log(
    `${target} ${scenario}: starting the allocation service${entry ? ` from ${entry}` : ''} (database pool ${options.servicePoolSize})`,
  );
  let service: ServiceUnderTest;
  try {
    service = await ServiceUnderTest.start({ mysqlUrl: options.mysqlUrl, poolSize: options.servicePoolSize, entry });
  } catch (err) {
    return [check(`${target} ${scenario}: start`, false, (err as Error).message)];
  }
  try {
    log(`${target} ${scenario}: seeding through the API`);
    try {
      await service.seed(scenario);
    } catch (err) {
      return [check(`${target} ${scenario}: seed`, false, (err as Error).message)];
    }
    log(`${target} ${scenario}: Reserve over gRPC`);
    const result = await service.measure(scenario, plan);
    record(target, scenario, result.load);
    return result.checks.map((c) => ({ ...c, name: c.name.replace(/^service/, target) }));
  } finally {
    await service.stop();
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof UsageError ? `${err.message}\n\n${USAGE}` : err);
    process.exit(1);
  },
);
