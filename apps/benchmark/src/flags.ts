import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** What one benchmark run measures. `previous` is the service built from an earlier commit (--previous-build). */
export type Target = 'b1' | 'b2' | 'b3' | 'previous' | 'service';

/**
 * hot: every call reserves the same item at the same node; hot-borrow: the same, in a segment that has no
 * supply of its own and borrows every unit from the unsegmented pool there; spread: a random one of
 * 10,000 item-nodes.
 */
export type Scenario = 'hot' | 'hot-borrow' | 'spread';

/** The targets `--targets` may name; `previous` joins them when `--previous-build` is given. */
export const TARGETS: readonly Target[] = ['b1', 'b2', 'b3', 'service'];
export const SCENARIOS: readonly Scenario[] = ['hot', 'hot-borrow', 'spread'];

/**
 * The scenario that times RebalanceService against its own raw baseline (see rebalance.ts); not a Scenario.
 * Not run by default: rebalancing 100,000 item-nodes takes about 15 minutes here.
 */
const REBALANCE = 'rebalance';

/**
 * The scenario that measures AvailabilityService.WatchAvailability against a bare grpc-js fan-out server
 * (see watch.ts); not a Scenario. Not run by default: it needs a service that serves the watch.
 */
const WATCH = 'watch';

/**
 * The scenario that measures the audit app's ingest against the allocation app's commit rate (see audit.ts);
 * not a Scenario. Runs by default.
 */
const AUDIT = 'audit';

export interface BenchOptions {
  /** Concurrent callers, each doing call after call (closed loop). */
  readonly callers: number;
  /** Measured seconds per target and scenario. */
  readonly seconds: number;
  /** Seconds of load before the measurement; their calls are not counted in the numbers, only in the checks. */
  readonly warmupSeconds: number;
  readonly scenarios: readonly Scenario[];
  readonly targets: readonly Target[];
  /** Where to write the results as JSON; none when unset. */
  readonly jsonPath?: string;
  /** The MariaDB server, without a database name. */
  readonly mysqlUrl: string;
  /** The service's own connection pool (INVENTORY_DATABASE_POOL_SIZE). */
  readonly servicePoolSize: number;
  /** The allocation service bundle of an earlier commit, measured beside the current one; none when unset. */
  readonly previousBuild?: string;
  /** The rebalance scenario's size and the service page sizes it runs at; none when not selected. */
  readonly rebalance?: { readonly itemNodes: number; readonly pageSizes: readonly number[] };
  /** The watch scenario's sizes; none when not selected. It uses `seconds` and `warmupSeconds` too. */
  readonly watch?: WatchOptions;
  /** The audit scenario's supply lines per call; none when not selected. It uses `callers`, `seconds` and `warmupSeconds`. */
  readonly audit?: { readonly linesPerCall: number };
}

export interface WatchOptions {
  /** Watchers of the latency measurement, 10 a watched item by default. */
  readonly watchers: number;
  /** Items watched and changed (one node, each item seeded with supply). */
  readonly items: number;
  /** Changes committed per second, each +1 supply on a random item. */
  readonly rate: number;
  /** Idle watchers of the memory measurement; 0 skips it. */
  readonly idleWatchers: number;
}

export const USAGE = `Usage: npm run bench -- [options]

  --callers <n>            concurrent callers (default 64)
  --seconds <s>            measured seconds per target and scenario (default 10)
  --warmup <s>             warm-up seconds before each measurement (default 2)
  --scenarios <list>       hot,hot-borrow,spread,rebalance,watch,audit (default hot,hot-borrow,spread,audit:
                           rebalance takes about 15 minutes at its default size and watch needs a service
                           that serves WatchAvailability, so they run only when named)
  --targets <list>         b1,b2,b3,service (default all; rebalance and watch always run the service and
                           their own baseline)
  --json <file>            also write the results as JSON
  --mysql-url <url>        MariaDB server (default mysql://root@127.0.0.1:3306)
  --service-pool-size <n>  the service's database pool size (default 10)
  --previous-build <file>  also measure this earlier build of the service (its dist/apps/allocation/main.js),
                           scenario by scenario right before the current one
  --rebalance-item-nodes <n>
                           item-nodes the rebalance scenario seeds and rebalances (default 100000)
  --rebalance-page-sizes <list>
                           INVENTORY_REBALANCE_PAGE_SIZE values to run it at, each on a fresh database
                           (default 100)
  --watch-watchers <n>     watchers of the watch latency measurement, each watching one item, spread
                           evenly over the items (default 1000); it commits changes for --warmup and
                           then --seconds, and the watchers' latency is measured over the latter
  --watch-items <n>        items the watch scenario seeds at its node and changes (default 100)
  --watch-rate <n>         changes committed per second, each +1 supply on a random item (default 100)
  --watch-idle-watchers <n>
                           idle watchers of the watch memory measurement, at most 1000 per connection
                           (default 10000; 0 skips it)
  --audit-lines <n>        supply lines per AdjustSupply call of the audit scenario (default 10)
  --help                   this text`;

export class UsageError extends Error {}

/** Parses the command line; throws a UsageError naming what is wrong. */
export function parseFlags(argv: readonly string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const previousBuild = values['previous-build'];
  if (previousBuild !== undefined && !existsSync(previousBuild))
    throw new UsageError(`--previous-build names no file: "${previousBuild}"`);
  const targets = list('--targets', values.targets, TARGETS);
  const scenarios = list('--scenarios', values.scenarios, [...SCENARIOS, REBALANCE, WATCH, AUDIT]);
  return {
    callers: whole('--callers', values.callers, 1, 10_000),
    seconds: positive('--seconds', values.seconds),
    warmupSeconds: positive('--warmup', values.warmup, true),
    scenarios: scenarios.filter((s): s is Scenario => s !== REBALANCE && s !== WATCH && s !== AUDIT),
    targets:
      previousBuild && targets.includes('service')
        ? [...targets.filter((t) => t !== 'service'), 'previous', 'service']
        : targets,
    jsonPath: values.json,
    mysqlUrl: mysqlServerUrl(values['mysql-url']),
    servicePoolSize: whole('--service-pool-size', values['service-pool-size'], 1, 1000),
    previousBuild,
    rebalance: scenarios.includes(REBALANCE)
      ? {
          itemNodes: whole('--rebalance-item-nodes', values['rebalance-item-nodes'], 1, 1_000_000),
          pageSizes: values['rebalance-page-sizes']
            .split(',')
            .map((size) => whole('--rebalance-page-sizes', size.trim(), 1, 1000)),
        }
      : undefined,
    watch: scenarios.includes(WATCH)
      ? {
          watchers: whole('--watch-watchers', values['watch-watchers'], 1, 100_000),
          items: whole('--watch-items', values['watch-items'], 1, 10_000),
          rate: whole('--watch-rate', values['watch-rate'], 1, 10_000),
          idleWatchers: whole('--watch-idle-watchers', values['watch-idle-watchers'], 0, 100_000),
        }
      : undefined,
    audit: scenarios.includes(AUDIT)
      ? { linesPerCall: whole('--audit-lines', values['audit-lines'], 1, 1000) }
      : undefined,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      callers: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      scenarios: { type: 'string', default: [...SCENARIOS, AUDIT].join(',') },
      targets: { type: 'string', default: TARGETS.join(',') },
      json: { type: 'string' },
      'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306' },
      'service-pool-size': { type: 'string', default: '10' },
      'previous-build': { type: 'string' },
      'rebalance-item-nodes': { type: 'string', default: '100000' },
      'rebalance-page-sizes': { type: 'string', default: '100' },
      'watch-watchers': { type: 'string', default: '1000' },
      'watch-items': { type: 'string', default: '100' },
      'watch-rate': { type: 'string', default: '100' },
      'watch-idle-watchers': { type: 'string', default: '10000' },
      'audit-lines': { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
  });
}

function whole(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function positive(flag: string, raw: string, zeroAllowed = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0))
    throw new UsageError(`${flag} must be a positive number of seconds, got "${raw}"`);
  return value;
}

function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = items.filter((s) => !allowed.includes(s as T));
  if (items.length === 0 || unknown.length > 0)
    throw new UsageError(`${flag} takes a comma-separated list of ${allowed.join(', ')}, got "${raw}"`);
  // Runs always go in the canonical order, whatever order the flag gave.
  return allowed.filter((a) => items.includes(a));
}

/** The server part of a mysql:// URL: a database name, if given, is dropped (the benchmark makes its own). */
function mysqlServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--mysql-url must be a URL like mysql://user:password@host:3306, got "${raw}"`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
    throw new UsageError(`--mysql-url must start with mysql://, got "${raw}"`);
  url.pathname = '';
  return url.toString().replace(/\/$/, '');
}
