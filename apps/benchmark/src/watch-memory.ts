/**
 * Memory per idle watcher, measured the same way for the service and its baseline: the server's memory
 * with the connections open and no watch, then with every watch open and idle (snapshot delivered, no
 * change after it), each after letting the server settle and collecting its garbage.
 */
import { check, type Check } from './check';
import { sleep } from './child-server';
import { connectionsCheck, describeFailures, WatcherSet, type WatchTarget } from './watchers';

/** The server process's memory, as far as it can be read. */
export interface MemoryProbe {
  /** Resident set size in bytes; undefined where /proc cannot say. */
  rssBytes(): number | undefined;
  /** A full GC in the server, then its process.memoryUsage(); undefined where it cannot be triggered. */
  collectGarbage(): Promise<NodeJS.MemoryUsage | undefined>;
}

/** One reading of a settled server. */
export interface MemoryReading {
  /** The least RSS of a few samples after the collection. */
  readonly rssBytes: number;
  /** V8 heap in use right after the collection; undefined without a GC hook. */
  readonly heapUsedBytes?: number;
  /** Memory outside the V8 heap (buffers, native objects) right after the collection; undefined without a GC hook. */
  readonly externalBytes?: number;
}

/** What one target's memory measurement found. */
export interface IdleMemory {
  readonly watchers: number;
  readonly connections: number;
  readonly before: MemoryReading;
  readonly after: MemoryReading;
  /** (after - before) RSS per watcher. */
  readonly rssBytesPerWatcher: number;
  /** (after - before) V8 heap in use per watcher; undefined without a GC hook. */
  readonly heapBytesPerWatcher?: number;
}

/** How long the server is left alone before a reading. */
const SETTLE_MS = 2000;
/** RSS samples per reading, and the pause between them. */
const RSS_SAMPLES = 5;
const RSS_SAMPLE_GAP_MS = 200;

/**
 * Measures `name` (e.g. "service idle"): `count` idle watches of `items` items. A watch that does not open
 * ends the measurement as a failed check.
 */
export async function measureIdleMemory(
  name: string,
  target: WatchTarget,
  probe: MemoryProbe,
  count: number,
  items: number,
  log: (line: string) => void,
): Promise<{ memory?: IdleMemory; checks: Check[] }> {
  const set = await WatcherSet.connect(target, count);
  try {
    const before = await settledReading(probe);
    if (!before) return { checks: [check(`${name}: memory readable`, false, 'no RSS in /proc/<pid>/status')] };
    log(`${name}: opening ${count} idle watches over ${set.channelCount} connection(s)`);
    await set.watch(count, items);
    const opened = check(
      `${name}: every watch delivered its snapshot`,
      set.open === count,
      `${set.open} of ${count}${describeFailures(set.failures())}`,
    );
    if (!opened.ok) return { checks: [opened] };
    const after = await settledReading(probe);
    const stillOpen = set.open;
    const checks = [
      opened,
      connectionsCheck(name, set),
      check(
        `${name}: every watch still open after the readings`,
        stillOpen === count,
        `${stillOpen} of ${count}${describeFailures(set.failures())}`,
      ),
    ];
    if (!after) return { checks: [...checks, check(`${name}: memory readable`, false, 'no RSS after the watches')] };
    const perWatcher = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : (b - a) / count);
    const memory: IdleMemory = {
      watchers: count,
      connections: set.channelCount,
      before,
      after,
      rssBytesPerWatcher: (after.rssBytes - before.rssBytes) / count,
      heapBytesPerWatcher: perWatcher(before.heapUsedBytes, after.heapUsedBytes),
    };
    return { memory, checks };
  } finally {
    set.close();
  }
}

/** Settles, collects garbage (where the server allows it), then takes the least of a few RSS samples. */
async function settledReading(probe: MemoryProbe): Promise<MemoryReading | undefined> {
  await sleep(SETTLE_MS);
  const usage = await probe.collectGarbage();
  let rss: number | undefined;
  for (let i = 0; i < RSS_SAMPLES; i++) {
    await sleep(RSS_SAMPLE_GAP_MS);
    const sample = probe.rssBytes();
    if (sample !== undefined) rss = rss === undefined ? sample : Math.min(rss, sample);
  }
  if (rss === undefined) return undefined;
  return { rssBytes: rss, heapUsedBytes: usage?.heapUsed, externalBytes: usage?.external };
}
