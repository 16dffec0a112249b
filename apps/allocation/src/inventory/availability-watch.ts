import * as pb from '@inventory/contracts';
import {
  StreamPositionTrimmedError,
  WatchBufferFullError,
  type AvailabilityLevel,
  type DomainError,
} from '@inventory/domain';
import {
  oldestStreamSequence,
  readStream,
  streamSequencesOf,
  type Database,
  type Notifier,
  type StreamEntry,
} from '@inventory/store';
import type { FigureSnapshots } from './figure-snapshots';
import { segmentName } from './change-stream-filter';
import { resumeToken, type WatchRequest } from './watch-request';

/** Sends one message; resolves once the stream can take more. */
export type Send = (message: pb.WatchAvailabilityResponse) => Promise<void>;

/** The event types that move what a watch shows. */
export const WATCHED_TYPES = [
  'position_availability_changed',
  'consumption_rules_changed',
  'safety_stock_set',
  'safety_stock_deleted',
];
/** Rows one read of the stream takes. */
export const READ_BATCH = 1000;
/** Positions one snapshot message carries. */
const SNAPSHOT_PAGE = 1000;

const LEVELS: Record<AvailabilityLevel, pb.AvailabilityLevel> = {
  LOW: pb.AvailabilityLevel.AVAILABILITY_LEVEL_LOW,
  MEDIUM: pb.AvailabilityLevel.AVAILABILITY_LEVEL_MEDIUM,
  HIGH: pb.AvailabilityLevel.AVAILABILITY_LEVEL_HIGH,
};

/** A position's latest figures waiting to be sent, and the stream position they come from. */
interface Pending {
  readonly position: pb.PositionAvailabilityChanged;
  readonly sequence: number;
}

/**
 * One open watch: its snapshot or catch-up, then what the reader hands it, coalesced by position. An idle
 * watch is kept small (10,000 of them on a replica is an expected load): maps exist only while they hold
 * something, and it ends through a plain promise rather than an AbortSignal listener.
 */
export class Watch {
  /** The resume token of the last message sent; empty before the snapshot completed. */
  lastToken = '';
  /** Positions changed since the last message; undefined while none. */
  private pending: Map<string, Pending> | undefined;
  /** Threshold mode: the level last sent per position. */
  private readonly levels: Map<string, AvailabilityLevel> | undefined;
  /** Events up to this stream position are already in what was sent (or is being caught up). */
  private coveredTo: number;
  private ready = false;
  private sending = false;
  /** Rules or safety stock changed at these positions (undefined: all): their figures are re-read. */
  private rereads: Array<{ sequence: number; itemId?: string; nodeId?: string }> = [];
  private rereading = false;
  /** Why the watch failed, if it did. */
  failure: DomainError | undefined;
  /** Whether the watch has ended: the caller left, the service stops, or it failed. */
  private ended = false;
  private finish: () => void = () => undefined;
  /** Resolves when the watch ends. */
  readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(
    private readonly db: Database,
    private readonly snapshots: FigureSnapshots,
    readonly request: WatchRequest,
    /** The nodes watched (the group's, for a group); undefined for every node. */
    private readonly nodeIds: readonly string[] | undefined,
    private readonly send: Send,
    private readonly bufferLimit: number,
    private readonly reader: { readonly readerPosition: number },
  ) {
    if (request.thresholds) this.levels = new Map();
    // A resumed watch has had everything up to its token; a new one takes what comes, and its snapshot
    // drops what it covers.
    this.coveredTo = request.resumeAfter ?? 0;
  }

  /** Sends the snapshot (or catches up after a resume token); from then on, changes until it ends. */
  async start(stamped: Notifier, pollIntervalMs: number): Promise<void> {
    if (this.request.resumeAfter === undefined) await this.sendSnapshot(stamped, pollIntervalMs);
    else await this.catchUp(this.request.resumeAfter);
    this.ready = true;
    this.flush();
  }

  /** Ends the watch (without an error of its own). */
  end(): void {
    this.ended = true;
    this.finish();
  }

  private readerPosition(): number {
    return this.reader.readerPosition;
  }

  /**
   * What a message sent now covers, given what it holds is complete up to `position`: a re-read in flight
   * holds it below the change it re-reads for, so that a resume does not skip that change.
   */
  private coveredPosition(position: number): number {
    return Math.min(position, ...this.rereads.map((r) => r.sequence - 1));
  }

  /** Takes an entry the reader read (it concerns this watch's items, or every item). */
  offer(entry: StreamEntry): void {
    if (this.ended || entry.sequence <= this.coveredTo) return;
    const event = entry.event;
    const position = event?.positionAvailabilityChanged;
    if (position) {
      if (this.wants(position)) this.put(position, entry.sequence);
    } else this.rereadAfter(entry);
  }

  /** Re-reads what a rules or safety stock change (which come without position events) may have moved. */
  private rereadAfter({ event, sequence }: StreamEntry): void {
    if (event?.consumptionRulesChanged) this.reread({ sequence });
    else {
      const changed = event?.safetyStockSet?.safetyStock ?? event?.safetyStockDeleted;
      if (changed && (!this.nodeIds || changed.nodeId === '' || this.nodeIds.includes(changed.nodeId)))
        this.reread({ sequence, itemId: changed.item?.itemId, nodeId: changed.nodeId || undefined });
    }
  }

  /** Sends what is pending in one message, unless the caller has not taken the last one yet. */
  flush(): void {
    if (!this.ready || this.sending || this.failure) return;
    const covered = this.coveredPosition(this.readerPosition());
    const updates = this.take();
    if (updates.length === 0) return;
    this.lastToken = resumeToken(covered, this.request.fingerprint);
    this.sending = true;
    void this.send({
      updates,
      snapshot: false,
      snapshotComplete: false,
      resumeToken: this.lastToken,
      sequence: covered,
    }).then(() => {
      this.sending = false;
      if (this.pending) this.flush();
    });
  }

  private wants(p: pb.PositionAvailabilityChanged): boolean {
    const { itemIds, segments } = this.request;
    return (
      (!itemIds || itemIds.includes(p.item?.itemId ?? '')) &&
      (!this.nodeIds || this.nodeIds.includes(p.nodeId)) &&
      (!segments || segments.includes(segmentName(p.segment)))
    );
  }

  private put(position: pb.PositionAvailabilityChanged, sequence: number): void {
    const key = keyOf(position);
    this.pending ??= new Map();
    const held = this.pending.get(key);
    if (held && held.sequence > sequence) return;
    this.pending.set(key, { position, sequence });
    // The buffer is what waits while the caller has not taken the last message.
    if (this.sending && this.pending.size > this.bufferLimit)
      this.fail(new WatchBufferFullError(this.bufferLimit, this.lastToken));
  }

  /** The pending updates as a message's, cleared; in threshold mode only the level changes. */
  private take(): pb.AvailabilityUpdate[] {
    const updates: pb.AvailabilityUpdate[] = [];
    for (const [key, { position, sequence }] of this.pending ?? []) {
      const update = this.update(key, position, sequence, false);
      if (update) updates.push(update);
    }
    this.pending = undefined;
    return updates;
  }

  /** The update of a position; in threshold mode undefined when its level is the one last sent. */
  private update(
    key: string,
    position: pb.PositionAvailabilityChanged,
    sequence: number,
    inSnapshot: boolean,
  ): pb.AvailabilityUpdate | undefined {
    const book = this.request.thresholds;
    if (!book || !this.levels) return { position, sequence, level: 0, previousLevel: 0 };
    const level = book.levelAt(position.item?.itemId ?? '', position.nodeId, position.available);
    const previous = this.levels.get(key);
    if (!inSnapshot && previous === level) return undefined;
    this.levels.set(key, level);
    return { position, sequence, level: LEVELS[level], previousLevel: previous ? LEVELS[previous] : 0 };
  }

  /**
   * The snapshot: positions read in one consistent read, with the stream position P they hold every change
   * up to, and the committed changes not stamped yet (U) that they hold too. Once U has been stamped (at most
   * Q), the changes between P and the reader's position R >= Q are read from the stream, those of U left
   * out, and folded in; the snapshot then covers R exactly, and the reader's changes after R follow it.
   */
  private async sendSnapshot(stamped: Notifier, pollIntervalMs: number): Promise<void> {
    const snapshot = await this.snapshots.read(this.filter());
    const unstamped = new Set(snapshot.unstampedRowIds);
    let lastOfUnstamped = snapshot.lastSequence;
    while (unstamped.size > 0 && !this.ended) {
      const seen = stamped.count;
      const found = await streamSequencesOf({ db: this.db.knex, rowIds: [...unstamped] });
      lastOfUnstamped = Math.max(lastOfUnstamped, ...found.values());
      if (found.size === unstamped.size) break;
      await stamped.wait(pollIntervalMs, NEVER, seen);
    }
    const figures = new Map<string, Pending>();
    for (const position of snapshot.positions)
      if (this.wants(position)) figures.set(keyOf(position), { position, sequence: 0 });
    // What the reader offered up to `to` is read again below: it is dropped, and no more is taken.
    const to = Math.max(lastOfUnstamped, this.readerPosition());
    this.coveredTo = to;
    for (const [key, held] of this.pending ?? []) if (held.sequence <= to) this.pending?.delete(key);
    if (this.pending?.size === 0) this.pending = undefined;
    await this.readStream(snapshot.lastSequence, to, (entry) => {
      const position = entry.event?.positionAvailabilityChanged;
      if (unstamped.has(entry.rowId)) return;
      if (!position) this.rereadAfter(entry);
      else if (this.wants(position)) figures.set(keyOf(position), { position, sequence: entry.sequence });
    });
    const updates = [...figures].flatMap(
      ([key, { position, sequence }]) => this.update(key, position, sequence, true) ?? [],
    );
    // A re-read still in flight (rules changed after the snapshot's read) holds the token below its change.
    this.lastToken = resumeToken(this.coveredPosition(to), this.request.fingerprint);
    this.sending = true;
    for (let start = 0; start === 0 || start < updates.length; start += SNAPSHOT_PAGE) {
      const last = start + SNAPSHOT_PAGE >= updates.length;
      if (this.ended) return;
      await this.send({
        updates: updates.slice(start, start + SNAPSHOT_PAGE),
        snapshot: true,
        snapshotComplete: last,
        resumeToken: last ? this.lastToken : '',
        sequence: to,
      });
    }
    this.sending = false;
  }

  /** After a resume token: the changes after it up to where the reader stands, coalesced like the reader's. */
  private async catchUp(after: number): Promise<void> {
    const oldest = await oldestStreamSequence({ db: this.db.knex });
    if (oldest > after + 1) throw new StreamPositionTrimmedError(after, oldest);
    this.lastToken = resumeToken(after, this.request.fingerprint);
    const to = Math.max(after, this.readerPosition());
    await this.readStream(after, to, (entry) => this.offer(entry));
  }

  /** Hands the stream's events after `after` up to `to` to `handle`, in order. */
  private async readStream(after: number, to: number, handle: (entry: StreamEntry) => void): Promise<void> {
    let position = after;
    while (position < to) {
      const entries = await readStream({
        db: this.db.knex,
        afterSequence: position,
        limit: READ_BATCH,
        types: WATCHED_TYPES,
      });
      for (const entry of entries) {
        if (entry.sequence > to) return;
        handle(entry);
        position = entry.sequence;
      }
      if (entries.length < READ_BATCH) return;
    }
  }

  /** Re-reads figures after a change that moved them without position events (see WatchAvailability). */
  private reread(change: { sequence: number; itemId?: string; nodeId?: string }): void {
    this.rereads.push(change);
    if (!this.rereading) void this.rereadAll();
  }

  private async rereadAll(): Promise<void> {
    this.rereading = true;
    try {
      while (this.rereads.length > 0 && !this.ended) {
        const [change] = this.rereads;
        const filter = this.filter();
        const snapshot = await this.snapshots.read({
          itemIds: change!.itemId ? [change!.itemId] : filter.itemIds,
          nodeIds: change!.nodeId ? [change!.nodeId] : filter.nodeIds,
        });
        for (const position of snapshot.positions) if (this.wants(position)) this.put(position, change!.sequence);
        this.rereads.shift();
        this.flush();
      }
    } catch (err) {
      // The watch cannot show figures it could not read: it ends, and the caller resumes with its token.
      this.fail(err as DomainError);
    } finally {
      this.rereading = false;
    }
  }

  private filter(): { itemIds?: readonly string[]; nodeIds?: readonly string[] } {
    return { itemIds: this.request.itemIds, nodeIds: this.nodeIds };
  }

  private fail(error: DomainError): void {
    if (this.failure) return;
    this.failure = error;
    this.pending = undefined;
    this.end();
  }
}

/** A signal that never aborts, for waits that end by time or notice alone. */
const NEVER = new AbortController().signal;

/** Identifies a position in a watch. */
function keyOf(p: pb.PositionAvailabilityChanged): string {
  const item = p.item;
  return [item?.itemId, item?.unitOfMeasure, item?.productClass, p.nodeId, segmentName(p.segment)].join('\u0000');
}
