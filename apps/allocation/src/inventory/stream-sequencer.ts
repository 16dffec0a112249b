import type { Clock } from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import { inTransaction, Notifier, stampStreamPositions, type Database } from '@inventory/store';

/** Rows one transaction stamps: enough to keep up with bursts, small enough to keep the transaction short. */
const BATCH = 1000;
/**
 * The least time between the starts of two rounds that commits woke: commits closer together share a round.
 * It bounds the stamping transactions a busy replica adds for its readers (at most one per WAKE_GAP_MS) and
 * adds at most this much to a change's way to them.
 */
const WAKE_GAP_MS = 10;

/**
 * Gives committed change events their stream positions, every `intervalMs` (0: only when asked), on one
 * replica at a time: the change stream's single sequencer (see change_stream_service.proto for why one, and
 * why the order it sees commits in is a valid stream order). A round stamps batches until none is full, so
 * a backlog (the rows written before the stream existed, or after an outage) is worked off in one round.
 *
 * Each round that stamped something notifies `stamped`, which wakes this process's stream readers. While
 * this process has readers (Subscribe calls, availability watches: they listen to `stamped`), and unless the
 * sequencer runs only when asked, on the replica that holds the lease a commit of this process that wrote
 * events (Database.commits) starts a round at once, or WAKE_GAP_MS after the last one that commits started
 * (one at a time: commits during a round start one more after it), so that a change reaches the readers
 * within a stamping transaction or two rather than within an interval. Without readers here the interval
 * does: stamping after every commit would cost the write path for no one.
 */
export class StreamSequencer {
  /** Notified after each round that gave events their positions. */
  readonly stamped = new Notifier();
  private readonly job: PeriodicJob<number>;
  private wakeQueued = false;
  private lastWakeMs = 0;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    clock: Clock,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.job = new PeriodicJob({
      name: 'change-stream-sequencer',
      intervalMs,
      db,
      clock,
      logger,
      round: async () => {
        this.wakeQueued = false;
        let stamped = 0;
        for (;;) {
          const batch = await inTransaction(db, (trx) => stampStreamPositions({ trx, limit: BATCH, nowMs: clock() }));
          stamped += batch;
          if (batch < BATCH) {
            if (stamped > 0) this.stamped.notify();
            return stamped;
          }
        }
      },
    });
  }

  start(): void {
    this.job.start();
    if (this.intervalMs > 0) this.stopListening = this.db.commits.listen(() => this.wake());
  }

  /** Starts a round soon if none is waiting to start and this process follows the stream (see above). */
  private wake(): void {
    if (this.wakeQueued || !this.stamped.hasListeners) return;
    this.wakeQueued = true;
    const run = () => {
      this.lastWakeMs = performance.now();
      this.job
        .runIfLeased()
        .catch((err: unknown) => this.logger.error({ err }, 'change stream sequencer round failed'))
        .finally(() => (this.wakeQueued = false));
    };
    const waitMs = this.lastWakeMs + WAKE_GAP_MS - performance.now();
    if (waitMs > 0) setTimeout(run, waitMs);
    else run();
  }

  /** One round now; returns how many events it stamped, or undefined if another replica holds the lease. */
  stampOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  /** Waits for a running round and gives the lease up. */
  stop(): Promise<void> {
    this.stopListening?.();
    return this.job.stop();
  }
}
