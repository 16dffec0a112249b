/** The watch scenario's part of the report: its targets and its Markdown tables for BENCHMARKS.md. */
import type { WatchMeasurement } from './watch';
import type { WatchLatency } from './watch-latency';
import type { IdleMemory } from './watch-memory';

/** The targets: p99 commit-to-watcher latency, and memory per idle watcher against the baseline's. */
const TARGET_P99_MS = 50;
const TARGET_MEMORY_RATIO = 2;

export interface WatchGoal {
  readonly name: string;
  readonly status: 'PASS' | 'MISS' | 'SKIP';
  readonly detail: string;
}

export function watchGoals(m: WatchMeasurement | undefined): WatchGoal[] {
  if (!m) return [];
  const goals: WatchGoal[] = [];
  const latencyName = `watch: service p99 <= ${TARGET_P99_MS} ms at ${count(m.watchers)} watchers`;
  const { service, baseline } = m.latency;
  if (!service || !Number.isFinite(service.p99Ms))
    goals.push({ name: latencyName, status: 'SKIP', detail: 'the service was not measured (see the checks)' });
  else
    goals.push({
      name: latencyName,
      status: service.p99Ms <= TARGET_P99_MS && service.received === service.expected ? 'PASS' : 'MISS',
      detail:
        `p99 ${ms(service.p99Ms)} ms` +
        (baseline ? ` (baseline ${ms(baseline.p99Ms)} ms, ${ratio(service.p99Ms, baseline.p99Ms)})` : '') +
        `; ${count(service.received)} of ${count(service.expected)} updates received`,
    });
  if (m.idleWatchers > 0) {
    const memoryName = `watch: service memory per idle watcher <= ${TARGET_MEMORY_RATIO} x baseline at ${count(m.idleWatchers)} watchers`;
    const s = m.memory.service;
    const b = m.memory.baseline;
    if (!s || !b)
      goals.push({
        name: memoryName,
        status: 'SKIP',
        detail: `${s ? 'the baseline' : 'the service'} was not measured`,
      });
    else
      goals.push({
        name: memoryName,
        status: s.rssBytesPerWatcher <= TARGET_MEMORY_RATIO * b.rssBytesPerWatcher ? 'PASS' : 'MISS',
        detail: `${count(s.rssBytesPerWatcher)} vs baseline ${count(b.rssBytesPerWatcher)} RSS bytes per watcher (${ratio(s.rssBytesPerWatcher, b.rssBytesPerWatcher)})`,
      });
  }
  return goals;
}

export function watchMarkdown(m: WatchMeasurement | undefined): string[] {
  if (!m) return [];
  const latencyRow = (label: string, l: WatchLatency | undefined, base: WatchLatency | undefined) =>
    l
      ? `| ${label} | ${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${ms(l.maxMs)} | ${base ? ratio(l.p99Ms, base.p99Ms) : '-'} | ${count(l.received)} / ${count(l.expected)} | ${count(l.updates)} | ${ms(l.commitP50Ms)} | ${ms(l.commitP99Ms)} | ${cpu(l.serverCpuMsPerChange)} |`
      : `| ${label} | not measured (see the checks) | | | | | | | | |`;
  const memoryRow = (label: string, x: IdleMemory | undefined, base: IdleMemory | undefined) =>
    x
      ? `| ${label} | ${x.connections} | ${mib(x.before.rssBytes)} | ${mib(x.after.rssBytes)} | ${count(x.rssBytesPerWatcher)} | ${base ? ratio(x.rssBytesPerWatcher, base.rssBytesPerWatcher) : '-'} | ${x.heapBytesPerWatcher === undefined ? '-' : count(x.heapBytesPerWatcher)} |`
      : `| ${label} | not measured (see the checks) | | | | | |`;
  const { latency, memory } = m;
  const lines: (string | undefined)[] = [
    `Commit-to-watcher latency, ${count(m.watchers)} watchers (${count(m.items)} items, ${count(m.watchers / m.items)} watchers an item), ${count(m.rate)} changes/s:`,
    '',
    '| Target | p50 ms | p99 ms | max ms | p99 vs baseline | Received / expected | Updates delivered | Commit p50 ms | Commit p99 ms | Server CPU ms/change |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    latencyRow('Bare grpc-js fan-out baseline', latency.baseline, latency.baseline),
    latencyRow('**Service** WatchAvailability', latency.service, latency.baseline),
  ];
  if (m.idleWatchers > 0)
    lines.push(
      '',
      `Memory per idle watcher, ${count(m.idleWatchers)} watchers:`,
      '',
      '| Target | Connections | RSS before MiB | RSS after MiB | RSS bytes/watcher | vs baseline | Heap bytes/watcher |',
      '|---|--:|--:|--:|--:|--:|--:|',
      memoryRow('Bare grpc-js fan-out baseline', memory.baseline, memory.baseline),
      memoryRow('**Service** WatchAvailability', memory.service, memory.baseline),
    );
  lines.push(
    '',
    `- Each watcher watches one item at one node (a WatchAvailability of that item and node in changes mode); it is counted once its snapshot has arrived. At most ${count(m.watchersPerConnection)} watches share an HTTP/2 connection (a grpc-js channel of its own each); the changes go over another connection.`,
    `- Changes: AdjustSupply +1 ONHAND on a random item, ${count(m.rate)} a second whether or not the last has returned, for ${m.warmupSeconds} s of warm-up and ${m.seconds} s measured. Latency: from the committing call's start until a watcher of the item receives an update showing the supply the change gave the position or more (coalesced updates deliver every change they cover); percentiles are nearest-rank over every (watcher, change) pair of the measured changes. Received / expected counts the pairs of every change of the run.`,
    `- Baseline: a bare grpc-js server in a child process, no database: a server-streaming Watch per item topic and a unary Publish that writes its ${m.baselineMessageBytes}-byte message (a WatchAvailabilityResponse carrying one update, ${m.baselineMessageSize === 'service' ? "the median size of the service's in this run" : 'with a 32-character resume token: the service sent no one-update message to size it by'}) to the topic's open watches; raw bytes on the server, decoded by the client as the service's are. Same client, layout, rate and latency definition.`,
    m.idleWatchers > 0
      ? `- Memory: the server process's RSS (least of 5 samples from /proc/<pid>/status) with the connections open and no watch, then with every watch open and idle, each 2 s after the last action and right after a full GC triggered in the child (--expose-gc and a preloaded SIGUSR2 hook); heap is V8's heapUsed after the same GC. Both are measured on the process the latency measurement ran on.`
      : undefined,
  );
  return lines.filter((l): l is string => l !== undefined);
}

function ms(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '-';
}

function cpu(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3);
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1);
}

function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function ratio(x: number, base: number): string {
  return Number.isFinite(x) && Number.isFinite(base) && base > 0 ? `${(x / base).toFixed(2)}x` : '-';
}
