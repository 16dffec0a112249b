import type * as pb from '@inventory/contracts';
import { WatcherLimitReachedError, WatchStoppingError } from '@inventory/domain';
import type { StreamCall } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import { lastStreamSequence, readStream, type Database, type Notifier, type StreamEntry } from '@inventory/store';
import { READ_BATCH, Watch, WATCHED_TYPES, type Send } from './availability-watch';
import { FigureSnapshots } from './figure-snapshots';
import type { NodeCatalog } from './node-catalog';
import { requireUsableSegments } from './segment-catalog';
import { parseWatchRequest } from './watch-request';

export interface WatchLimits {
  /** Wait between reads of the stream when this process's sequencer has not said it stamped anything. */
  readonly pollIntervalMs: number;
  /** Most watches one connection may have open. */
  readonly maxPerConnection: number;
  /** Most watches the server serves at once. */
  readonly maxTotal: number;
  /** Most changed positions a watch may hold for a caller that does not read them. */
  readonly bufferPositions: number;
}

/**
 * Serves WatchAvailability: one reader per process follows the change stream from the database (so every
 * replica's watchers see every committed change) and hands each position event to the watches it concerns;
 * each watch coalesces what it was handed (latest value wins) until its caller can take a message.
 */
export class AvailabilityWatches {
  private readonly watches = new Set<Watch>();
  /** Watches by the item they name; those that name no item are in `anyItem`. */
  private readonly byItem = new Map<string, Set<Watch>>();
  private readonly anyItem = new Set<Watch>();
  /** Open watches per connection, and in all. */
  private readonly perConnection = new Map<string, number>();
  private open = 0;
  private readonly stopping = new AbortController();
  /** Every event up to this stream position has been handed to the watches. */
  private position = 0;
  /** Resolves once the reader runs and `position` is where it starts; undefined while it does not run. */
  private reader: Promise<void> | undefined;
  private readonly snapshots: FigureSnapshots;

  constructor(
    private readonly db: Database,
    private readonly nodes: NodeCatalog,
    private readonly stamped: Notifier,
    private readonly limits: WatchLimits,
    private readonly logger: Logger,
  ) {
    this.snapshots = new FigureSnapshots(db);
  }

  /**
   * Runs one watch until the caller cancels it (it then resolves) or it ends with an error: bad requests, a
   * limit, a buffer the caller did not drain, the service stopping (see availability_service.proto). Once
   * the watch is open it waits on a plain promise, not in a suspended async function, so that an idle
   * watch keeps no call frames.
   */
  async watch(req: pb.WatchAvailabilityRequest, send: Send, call: StreamCall): Promise<void> {
    const request = parseWatchRequest(req);
    await requireUsableSegments(
      this.db.knex,
      req.segments.map((key, i) => [`segments[${i}]`, key]),
    );
    const nodeIds = request.distributionGroupId
      ? (await this.nodes.getDistributionGroup(request.distributionGroupId)).nodeIds
      : request.nodeIds;
    if (request.nodeIds) await this.nodes.requireNodes(request.nodeIds);
    const connection = call.peer;
    this.admit(connection);
    const watch = new Watch(this.db, this.snapshots, request, nodeIds, send, this.limits.bufferPositions, this);
    call.onCancel(() => watch.end());
    const close = () => {
      this.remove(watch);
      this.release(connection);
    };
    try {
      this.add(watch);
      if (this.stopping.signal.aborted) watch.end();
      await this.startReading();
      await watch.start(this.stamped, this.limits.pollIntervalMs);
    } catch (err) {
      close();
      throw err;
    }
    return watch.finished.then(() => {
      close();
      if (watch.failure) throw watch.failure;
      if (this.stopping.signal.aborted && !call.cancelled.aborted) throw new WatchStoppingError(watch.lastToken);
    });
  }

  /** Every event up to this stream position has been handed to the watches. */
  get readerPosition(): number {
    return this.position;
  }

  /** Ends every watch with UNAVAILABLE and its resume token. */
  stop(): void {
    this.stopping.abort();
    for (const watch of this.watches) watch.end();
  }

  private admit(connection: string): void {
    const { maxPerConnection, maxTotal } = this.limits;
    const onConnection = this.perConnection.get(connection) ?? 0;
    if (onConnection >= maxPerConnection) throw new WatcherLimitReachedError('connection', maxPerConnection);
    if (this.open >= maxTotal) throw new WatcherLimitReachedError('server', maxTotal);
    this.perConnection.set(connection, onConnection + 1);
    this.open++;
  }

  private release(connection: string): void {
    this.open--;
    const left = (this.perConnection.get(connection) ?? 1) - 1;
    if (left > 0) this.perConnection.set(connection, left);
    else this.perConnection.delete(connection);
  }

  private add(watch: Watch): void {
    this.watches.add(watch);
    if (!watch.request.itemIds) this.anyItem.add(watch);
    else
      for (const itemId of watch.request.itemIds) {
        const set = this.byItem.get(itemId) ?? new Set();
        set.add(watch);
        this.byItem.set(itemId, set);
      }
  }

  private remove(watch: Watch): void {
    this.watches.delete(watch);
    this.anyItem.delete(watch);
    for (const itemId of watch.request.itemIds ?? []) {
      const set = this.byItem.get(itemId);
      set?.delete(watch);
      if (set?.size === 0) this.byItem.delete(itemId);
    }
  }

  /**
   * Starts the reader if it is not running, from the stream's head (no watch needs what came before), and
   * waits until it is positioned, so that a watch's catch-up and the reader meet.
   */
  private async startReading(): Promise<void> {
    this.reader ??= lastStreamSequence({ db: this.db.knex }).then(
      (head) => {
        this.position = Math.max(this.position, head);
        void this.read();
      },
      (err: unknown) => {
        this.reader = undefined;
        throw err;
      },
    );
    await this.reader;
  }

  /** Follows the stream while any watch is open; then stops, and the next watch starts it again. */
  private async read(): Promise<void> {
    const stop = this.stopping.signal;
    // Says to the sequencer that this process follows the stream (see StreamSequencer).
    const following = this.stamped.listen(() => undefined);
    while (!stop.aborted && this.watches.size > 0) {
      const seen = this.stamped.count;
      let entries: StreamEntry[] = [];
      try {
        entries = await readStream({
          db: this.db.knex,
          afterSequence: this.position,
          limit: READ_BATCH,
          types: WATCHED_TYPES,
        });
      } catch (err) {
        this.logger.warn({ err }, 'availability watches could not read the change stream; trying again');
      }
      const touched = new Set<Watch>();
      for (const entry of entries) {
        for (const watch of this.concerned(entry)) {
          watch.offer(entry);
          touched.add(watch);
        }
        this.position = entry.sequence;
      }
      for (const watch of touched) watch.flush();
      if (entries.length < READ_BATCH) await this.stamped.wait(this.limits.pollIntervalMs, stop, seen);
    }
    following();
    this.reader = undefined;
  }

  /** The watches an entry may concern, by its item (events that name none concern every watch). */
  private concerned(entry: StreamEntry): Iterable<Watch> {
    const event = entry.event;
    const itemId =
      event?.positionAvailabilityChanged?.item?.itemId ??
      event?.safetyStockSet?.safetyStock?.item?.itemId ??
      event?.safetyStockDeleted?.item?.itemId;
    if (itemId === undefined) return event?.consumptionRulesChanged ? this.watches : [];
    return [...(this.byItem.get(itemId) ?? []), ...this.anyItem];
  }
}
