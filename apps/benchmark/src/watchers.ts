/**
 * Many watches of one server, opened the same way for the service and its baseline: spread over channels
 * of their own (one HTTP/2 connection each, at most {@link WATCHERS_PER_CONNECTION} watches on one), each
 * watching one item and recording when each update of that item's position arrived and what supply it showed.
 */
import { readFileSync } from 'node:fs';
import type { Channel, ClientReadableStream } from '@grpc/grpc-js';
import type { WatchAvailabilityResponse } from '@inventory/contracts';
import { check, type Check } from './check';
import { sleep } from './child-server';
import { connectChannel, describeGrpcFailure, openChannel } from './grpc-client';
import { encodedSize, watchedSupply, watchItemId } from './watch-messages';

/** The most watches one connection carries: the service's default INVENTORY_WATCH_MAX_PER_CONNECTION. */
export const WATCHERS_PER_CONNECTION = 1000;

/** Watches that may wait for their snapshot at once while a set is opened. */
const OPEN_CONCURRENCY = 100;

/** How long one watch may take to deliver its snapshot. */
const SNAPSHOT_TIMEOUT_MS = 60_000;

/** How many one-update change messages have their encoded size recorded. */
const SIZE_SAMPLES = 1000;

/** A server whose watches the set opens: the service (WatchAvailability) or the bare fan-out baseline. */
export interface WatchTarget {
  /** host:port. */
  readonly address: string;
  /** A function that opens one watch of an item over `channel`. */
  watchOn(channel: Channel): (item: number) => ClientReadableStream<WatchAvailabilityResponse>;
}

/** One watch and what it received. */
export interface Watcher {
  /** Index of the item it watches. */
  readonly item: number;
  /** The supply its snapshot showed for the watched position; undefined if the snapshot did not hold it. */
  snapshotSupply?: number;
  snapshotComplete: boolean;
  /** When each update of the watched position after the snapshot arrived (performance.now()), in order. */
  readonly times: number[];
  /** The supply each of those updates showed. */
  readonly supplies: number[];
  /** The highest supply received so far, the snapshot's included. */
  maxSupply: number;
  /** Messages received after the snapshot. */
  messages: number;
  /** How the watch ended before the set closed it (e.g. "UNIMPLEMENTED"); undefined while it is open. */
  failure?: string;
}

/** Watches spread over connections of their own; open them with {@link WatcherSet.connect} and {@link watch}. */
export class WatcherSet {
  readonly watchers: Watcher[] = [];
  /** Encoded sizes of change messages that carried one update (up to {@link SIZE_SAMPLES}). */
  readonly oneUpdateSizes: number[] = [];
  private readonly calls: ClientReadableStream<WatchAvailabilityResponse>[] = [];
  private closing = false;

  private constructor(
    private readonly target: WatchTarget,
    private readonly channels: readonly Channel[],
    /** Connections to the server's port that the set's channels added. */
    readonly connections: number,
  ) {}

  /**
   * Opens and connects the channels for `count` watches: one per {@link WATCHERS_PER_CONNECTION}, each with a
   * connection of its own, and counts the connections they added to the server's port.
   */
  static async connect(target: WatchTarget, count: number): Promise<WatcherSet> {
    const port = Number(target.address.split(':').pop());
    const before = connectionsTo(port);
    const channels = Array.from({ length: Math.ceil(count / WATCHERS_PER_CONNECTION) }, () =>
      openChannel(target.address, true),
    );
    try {
      await Promise.all(channels.map((c) => connectChannel(c)));
    } catch (err) {
      channels.forEach((c) => c.close());
      throw err;
    }
    const after = connectionsTo(port);
    const connections = before && after ? [...after].filter((client) => !before.has(client)).length : NaN;
    return new WatcherSet(target, channels, connections);
  }

  /** The channels (and so connections) the set spreads its watches over. */
  get channelCount(): number {
    return this.channels.length;
  }

  /**
   * Opens `count` watches, watcher i watching item i % `items`, spread evenly over the channels, at most
   * {@link OPEN_CONCURRENCY} waiting for their snapshot at once. Resolves when every watch has delivered its
   * snapshot or failed; a failed watch is recorded, not thrown.
   */
  async watch(count: number, items: number): Promise<void> {
    const perChannel = Math.ceil(count / this.channels.length);
    const openers = this.channels.map((channel) => this.target.watchOn(channel));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) await this.openOne(openers[Math.floor(i / perChannel)]!, i % items);
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  }

  /** Watches that delivered their snapshot and have not failed since. */
  get open(): number {
    return this.watchers.filter((w) => w.snapshotComplete && w.failure === undefined).length;
  }

  /** Failed watches by how they failed, e.g. { UNIMPLEMENTED: 1000 }. */
  failures(): Record<string, number> {
    const kinds: Record<string, number> = {};
    for (const w of this.watchers) if (w.failure !== undefined) kinds[w.failure] = (kinds[w.failure] ?? 0) + 1;
    return kinds;
  }

  /** Cancels every watch and closes the channels. */
  close(): void {
    this.closing = true;
    this.calls.forEach((call) => call.cancel());
    this.channels.forEach((channel) => channel.close());
  }

  /** Opens one watch of `item` and resolves once its snapshot is complete or it failed. */
  private openOne(watchOf: (item: number) => ClientReadableStream<WatchAvailabilityResponse>, item: number) {
    const itemId = watchItemId(item);
    const watcher: Watcher = { item, snapshotComplete: false, times: [], supplies: [], maxSupply: 0, messages: 0 };
    this.watchers.push(watcher);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        watcher.failure = `no snapshot within ${SNAPSHOT_TIMEOUT_MS / 1000} s`;
        call.cancel();
        resolve();
      }, SNAPSHOT_TIMEOUT_MS);
      const settle = () => {
        clearTimeout(timer);
        resolve();
      };
      const call = watchOf(item);
      this.calls.push(call);
      call.on('data', (message: WatchAvailabilityResponse) => {
        const now = performance.now();
        const supply = watchedSupply(message, itemId);
        if (!watcher.snapshotComplete) {
          if (supply !== undefined) watcher.snapshotSupply = supply;
          if (message.snapshotComplete) {
            watcher.snapshotComplete = true;
            watcher.maxSupply = watcher.snapshotSupply ?? 0;
            settle();
          }
          return;
        }
        watcher.messages++;
        if (supply !== undefined) {
          watcher.times.push(now);
          watcher.supplies.push(supply);
          if (supply > watcher.maxSupply) watcher.maxSupply = supply;
        }
        if (message.updates.length === 1 && this.oneUpdateSizes.length < SIZE_SAMPLES)
          this.oneUpdateSizes.push(encodedSize(message));
      });
      call.on('error', (err) => {
        if (!this.closing && watcher.failure === undefined) watcher.failure = describeGrpcFailure(err);
        settle();
      });
      call.on('end', () => {
        if (!this.closing && watcher.failure === undefined) watcher.failure = 'ended by the server';
        settle();
      });
    });
  }
}

/** The check that the watches really were spread over separate connections. */
export function connectionsCheck(name: string, set: WatcherSet): Check {
  return check(
    `${name}: watches spread over ${set.channelCount} connection(s) of at most ${WATCHERS_PER_CONNECTION}`,
    set.connections === set.channelCount,
    Number.isNaN(set.connections)
      ? 'could not count the connections (/proc/net/tcp)'
      : `${set.connections} new connection(s) to the server for ${set.channelCount} channel(s)`,
  );
}

/** ": UNIMPLEMENTED x1000, ..." after a count, or nothing when there is nothing to name. */
export function describeFailures(failures: Readonly<Record<string, number>>): string {
  const kinds = Object.entries(failures).sort((a, b) => b[1] - a[1]);
  return kinds.length === 0 ? '' : `: ${kinds.map(([kind, n]) => `${kind} x${n}`).join(', ')}`;
}

/** Waits until `done()` holds, checking every 50 ms, for at most `timeoutMs`; resolves to whether it held. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * The established TCP connections to `port` on this machine, each named by its client end ("HEXIP:HEXPORT"
 * from /proc/net/tcp and tcp6); undefined where /proc cannot say. Comparing two readings counts the
 * connections opened in between, whatever other connections closed meanwhile.
 */
export function connectionsTo(port: number): Set<string> | undefined {
  const clients = new Set<string>();
  let read = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
      read = true;
    } catch {
      continue;
    }
    // "sl local_address rem_address st ...": addresses are HEXIP:HEXPORT, state 01 is ESTABLISHED. The
    // server's end of a connection has the server's port as its local address.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== '01') continue;
      if (parseInt(fields[1]!.split(':').pop()!, 16) === port) clients.add(fields[2]!);
    }
  }
  return read ? clients : undefined;
}
