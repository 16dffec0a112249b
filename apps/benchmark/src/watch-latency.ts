/**
 * Commit-to-watcher latency, measured the same way for the service and its baseline: watchers open (each
 * on one item, snapshot received), then changes committed at a steady rate (open loop: a change is due every
 * 1/rate s whether or not the last one has returned), each +1 supply on a random item. For every watcher
 * of the item and every change, the latency is the time from the committing call's start until the
 * watcher receives an update showing the supply that change gave the position, or more (an update that
 * coalesces several changes delivers all of them).
 */
import { check, type Check } from './check';
import { sleep } from './child-server';
import { describeGrpcFailure } from './grpc-client';
import { percentile } from './load';
import { WATCH_SEED_SUPPLY } from './watch-messages';
import { connectionsCheck, describeFailures, waitFor, WatcherSet, type Watcher, type WatchTarget } from './watchers';

/** Commits one change of `item` (the `sequence`-th of the run); resolves to the supply it gave the position. */
export type Commit = (item: number, sequence: number) => Promise<number>;

export interface LatencySettings {
  readonly watchers: number;
  readonly items: number;
  /** Changes per second. */
  readonly rate: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/** What one target's latency measurement found. */
export interface WatchLatency {
  readonly watchers: number;
  /** Connections the watchers were spread over. */
  readonly connections: number;
  /** Changes committed over the whole run (warm-up included), and those started in the measured window. */
  readonly changes: number;
  readonly measuredChanges: number;
  /** Changes whose commit failed, by kind. */
  readonly changeFailures: Readonly<Record<string, number>>;
  /** (watcher, change) pairs over every committed change: each watcher of an item should see each of its changes. */
  readonly expected: number;
  /** Those a watcher received (alone or coalesced with later ones). */
  readonly received: number;
  /** Updates of watched positions the watchers received after their snapshots (fewer than `received` when coalesced). */
  readonly updates: number;
  /** Commit-to-watcher latency of the measured changes' pairs, in milliseconds; NaN when there were none. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Latency of the committing calls themselves (start to answer), measured changes. */
  readonly commitP50Ms: number;
  readonly commitP99Ms: number;
  /** The server process's CPU over the measured window per measured change; undefined where /proc cannot say. */
  readonly serverCpuMsPerChange?: number;
  /** Median encoded size of the change messages that carried one update; undefined when none did. */
  readonly oneUpdateMessageBytes?: number;
}

/** How long after the last commit returned the watchers have to receive what they still miss. */
const DRAIN_TIMEOUT_MS = 10_000;

/** One committed (or failed) change. */
interface Change {
  readonly item: number;
  /** performance.now() when the committing call started. */
  readonly start: number;
  readonly measured: boolean;
  /** The supply the change gave its position; undefined when the commit failed. */
  supply?: number;
  /** performance.now() when the committing call returned. */
  end?: number;
  failure?: string;
}

/**
 * Measures `name` (e.g. "service watch"): opens the watchers, commits changes for the warm-up and the
 * measured window, waits for the watchers to catch up, then matches what they received with what was
 * committed. A watch that does not open ends the measurement as a failed check.
 */
export async function measureWatchLatency(
  name: string,
  target: WatchTarget,
  commit: Commit,
  cpuSeconds: () => number | undefined,
  settings: LatencySettings,
  log: (line: string) => void,
): Promise<{ latency?: WatchLatency; checks: Check[] }> {
  const set = await WatcherSet.connect(target, settings.watchers);
  try {
    log(
      `${name}: opening ${settings.watchers} watches of ${settings.items} items over ${set.channelCount} connection(s)`,
    );
    await set.watch(settings.watchers, settings.items);
    const opened = check(
      `${name}: every watch delivered its snapshot`,
      set.open === settings.watchers,
      `${set.open} of ${settings.watchers}${describeFailures(set.failures())}`,
    );
    if (!opened.ok) return { checks: [opened] };
    const checks = [opened, connectionsCheck(name, set)];
    const seeded = set.watchers.filter((w) => w.snapshotSupply === WATCH_SEED_SUPPLY).length;
    checks.push(
      check(
        `${name}: every snapshot shows the watched position at its seeded supply`,
        seeded === settings.watchers,
        `${seeded} of ${settings.watchers} at ${WATCH_SEED_SUPPLY}`,
      ),
    );

    log(`${name}: ${settings.rate} changes/s for ${settings.warmupSeconds} s warm-up + ${settings.seconds} s measured`);
    const { changes, cpuMsPerChange } = await commitSteadily(commit, cpuSeconds, settings);
    const committed = changes.filter((c) => c.supply !== undefined);
    // Every watcher has what it should once it has seen the last supply committed for its item.
    const lastSupply = new Map<number, number>();
    for (const c of committed) lastSupply.set(c.item, Math.max(lastSupply.get(c.item) ?? 0, c.supply!));
    await waitFor(
      () => set.watchers.every((w) => w.failure !== undefined || w.maxSupply >= (lastSupply.get(w.item) ?? 0)),
      DRAIN_TIMEOUT_MS,
    );
    const failures = set.failures();
    set.close();

    const matched = match(set.watchers, committed);
    const measured = changes.filter((c) => c.measured);
    const commitLatencies = sorted(measured.filter((c) => c.end !== undefined).map((c) => c.end! - c.start));
    const changeFailures: Record<string, number> = {};
    for (const c of changes)
      if (c.failure !== undefined) changeFailures[c.failure] = (changeFailures[c.failure] ?? 0) + 1;
    const latency: WatchLatency = {
      watchers: settings.watchers,
      connections: set.channelCount,
      changes: committed.length,
      measuredChanges: measured.length,
      changeFailures,
      expected: matched.expected,
      received: matched.received,
      updates: set.watchers.reduce((n, w) => n + w.supplies.length, 0),
      p50Ms: percentile(matched.latencies, 0.5),
      p99Ms: percentile(matched.latencies, 0.99),
      maxMs: matched.latencies.length > 0 ? matched.latencies[matched.latencies.length - 1]! : NaN,
      commitP50Ms: percentile(commitLatencies, 0.5),
      commitP99Ms: percentile(commitLatencies, 0.99),
      serverCpuMsPerChange: cpuMsPerChange,
      oneUpdateMessageBytes: median(set.oneUpdateSizes),
    };
    const failedChanges = changes.length - committed.length;
    checks.push(
      check(
        `${name}: every change committed`,
        failedChanges === 0,
        `${committed.length} of ${changes.length}${describeFailures(changeFailures)}`,
      ),
      check(
        `${name}: every watcher received every change of its item`,
        matched.received === matched.expected,
        `${matched.received} of ${matched.expected} (watcher, change) pairs; ${latency.updates} updates delivered`,
      ),
      check(
        `${name}: no watch failed during the run`,
        Object.keys(failures).length === 0,
        Object.keys(failures).length === 0
          ? `${settings.watchers} open to the end`
          : `failed${describeFailures(failures)}`,
      ),
    );
    return { latency, checks };
  } finally {
    set.close();
  }
}

/**
 * Commits `rate` changes a second for the warm-up and the measured window, each on a random item, without
 * waiting for one to return before the next is due; resolves once every commit has returned. The server's
 * CPU is read at the edges of the measured window.
 */
async function commitSteadily(
  commit: Commit,
  cpuSeconds: () => number | undefined,
  settings: LatencySettings,
): Promise<{ changes: Change[]; cpuMsPerChange?: number }> {
  const warmupChanges = Math.round(settings.rate * settings.warmupSeconds);
  const total = warmupChanges + Math.round(settings.rate * settings.seconds);
  const changes: Change[] = [];
  const pending: Promise<void>[] = [];
  let cpuFrom: number | undefined;
  const started = performance.now();
  for (let k = 0; k < total; k++) {
    const wait = started + (k * 1000) / settings.rate - performance.now();
    if (wait > 0) await sleep(wait);
    if (k === warmupChanges) cpuFrom = cpuSeconds();
    const change: Change = {
      item: Math.floor(Math.random() * settings.items),
      start: performance.now(),
      measured: k >= warmupChanges,
    };
    changes.push(change);
    pending.push(
      commit(change.item, k).then(
        (supply) => {
          change.end = performance.now();
          change.supply = supply;
        },
        (err: unknown) => {
          change.failure = describeGrpcFailure(err);
        },
      ),
    );
  }
  // The measured window ends when the last change is due to be followed by the next.
  const wait = started + (total * 1000) / settings.rate - performance.now();
  if (wait > 0) await sleep(wait);
  const cpuUntil = cpuSeconds();
  await Promise.all(pending);
  const measured = total - warmupChanges;
  return {
    changes,
    cpuMsPerChange:
      cpuFrom !== undefined && cpuUntil !== undefined && measured > 0
        ? ((cpuUntil - cpuFrom) * 1000) / measured
        : undefined,
  };
}

/**
 * Matches every watcher's updates with its item's committed changes: a change that gave the position
 * supply S reached a watcher with the first update it received showing S or more. Returns the pairs
 * expected and received over every change, and the latencies of the measured changes' pairs, ascending.
 */
function match(
  watchers: readonly Watcher[],
  committed: readonly Change[],
): { expected: number; received: number; latencies: Float64Array } {
  const byItem = new Map<number, Change[]>();
  for (const c of committed) {
    const list = byItem.get(c.item);
    if (list) list.push(c);
    else byItem.set(c.item, [c]);
  }
  for (const list of byItem.values()) list.sort((a, b) => a.supply! - b.supply!);
  let expected = 0;
  let received = 0;
  const latencies: number[] = [];
  for (const w of watchers) {
    const changes = byItem.get(w.item) ?? [];
    expected += changes.length;
    // The first update showing at least S comes no earlier than the first showing at least a smaller S.
    let u = 0;
    for (const c of changes) {
      while (u < w.supplies.length && w.supplies[u]! < c.supply!) u++;
      if (u === w.supplies.length) break;
      received++;
      if (c.measured) latencies.push(w.times[u]! - c.start);
    }
  }
  return { expected, received, latencies: sorted(latencies) };
}

function sorted(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return percentile(sorted(values), 0.5);
}
