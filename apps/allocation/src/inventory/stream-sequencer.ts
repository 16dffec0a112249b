import type { Clock } from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import { inTransaction, Notifier, stampStreamPositions, type Database } from '@inventory/store';

/** Rows one transaction stamps: enough to keep up with bursts, small enough to keep the transaction short. */
const BATCH = 1000;

/**
 * Gives committed change events their stream positions, every `intervalMs` (0: only when asked), on one
 * replica at a time: the change stream's single sequencer (see change_stream_service.proto for why one, and
 * why the order it sees commits in is a valid stream order). A round stamps batches until none is full, so
 * a backlog (the rows written before the stream existed, or after an outage) is worked off in one round.
 *
 * Unless it runs only when asked, on the replica that holds the lease a commit of this process that wrote events (Database.commits) starts
 * a round at once (one at a time: commits during a round start one more after it), so that a change reaches
 * the stream within one stamping transaction rather than within an interval. Each round that stamped
 * something notifies `stamped`, which wakes this process's stream readers.
 */
export class StreamSequencer {
  /** Notified after each round that gave events their positions. */
  readonly stamped = new Notifier();
  private readonly job: PeriodicJob<number>;
  private wakeQueued = false;
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

  /** Starts a round now if none is waiting to start (see the class comment). */
  private wake(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    this.job
      .runIfLeased()
      .catch((err: unknown) => this.logger.error({ err }, 'change stream sequencer round failed'))
      .finally(() => (this.wakeQueued = false));
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
