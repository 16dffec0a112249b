import type * as pb from '@inventory/contracts';
import { ServiceStoppingError, StreamPositionTrimmedError } from '@inventory/domain';
import { oldestStreamSequence, readStream, type Database, type Notifier } from '@inventory/store';
import { parseStreamFilter, passesFilter, type StreamFilter } from './change-stream-filter';

/** Rows one read of the stream takes. */
const READ_BATCH = 500;

/**
 * Serves the change stream to subscribers: reads the events the sequencer stamped, in stream order, from
 * the database (the source of truth every replica shares), and follows new ones by polling every
 * `pollIntervalMs`, or at once when this process's sequencer has stamped some (`stamped`). Positions are gap-free and trimmed only as a prefix, so a read whose first position is
 * not the next one expected means retention dropped events the subscriber has not seen: it fails with
 * OUT_OF_RANGE rather than skip them.
 */
export class ChangeStream {
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly pollIntervalMs: number,
    private readonly stamped: Notifier,
  ) {}

  /**
   * Sends the events after `req.afterSequence` that pass its filters, then the new ones, until `cancelled`
   * aborts (then it resolves) or the service stops (then it throws ServiceStoppingError with the position to
   * resume after). Throws StreamPositionTrimmedError when retention has dropped events after the position,
   * InvalidArgumentError for bad filters.
   */
  async subscribe(
    req: pb.SubscribeRequest,
    send: (event: pb.ChangeEvent) => Promise<void>,
    cancelled: AbortSignal,
  ): Promise<void> {
    const filter = parseStreamFilter(req);
    const ended = AbortSignal.any([cancelled, this.stopping.signal]);
    let position = req.afterSequence || (await oldestStreamSequence({ db: this.db.knex })) - 1;
    // Says to the sequencer that this process follows the stream (see StreamSequencer).
    const following = this.stamped.listen(() => undefined);
    try {
      position = await this.follow(position, filter, send, ended);
    } finally {
      following();
    }
    if (this.stopping.signal.aborted && !cancelled.aborted) throw new ServiceStoppingError(position);
  }

  /** Sends what follows `position` until `ended`; returns the position passed. */
  private async follow(
    position: number,
    filter: StreamFilter,
    send: (event: pb.ChangeEvent) => Promise<void>,
    ended: AbortSignal,
  ): Promise<number> {
    while (!ended.aborted) {
      const seen = this.stamped.count;
      const entries = await readStream({
        db: this.db.knex,
        afterSequence: position,
        limit: READ_BATCH,
        types: filter.eventTypes,
      });
      await this.checkHeld(position, entries[0]?.sequence);
      for (const entry of entries) {
        if (ended.aborted) break;
        if (entry.event && passesFilter(filter, entry.event)) await send(entry.event);
        position = entry.sequence;
      }
      if (!ended.aborted && entries.length < READ_BATCH) await this.stamped.wait(this.pollIntervalMs, ended, seen);
    }
    return position;
  }

  /**
   * Throws when retention dropped events after `position`: the next event read (`next`) is not the one after
   * it, or, when nothing was read, the oldest held is past it (everything after it was trimmed).
   */
  private async checkHeld(position: number, next: number | undefined): Promise<void> {
    const oldest = next ?? (await oldestStreamSequence({ db: this.db.knex }));
    if (oldest > position + 1) throw new StreamPositionTrimmedError(position, oldest);
  }

  /** Ends every subscription with UNAVAILABLE and the position to resume after (see ServiceStoppingError). */
  stop(): void {
    this.stopping.abort();
  }
}
