import type { Clock } from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import { inTransaction, trimStream, type Database } from '@inventory/store';

/** Rows one transaction deletes, so that trimming a large backlog never holds locks for long. */
const BATCH = 1000;

/**
 * Trims the change stream every `intervalMs` (0: only when asked), on one replica at a time: deletes the
 * events stamped more than `retentionMs` ago, oldest first, so that what is held stays a gap-free suffix of
 * the stream. Readers asking for what it dropped get OUT_OF_RANGE (see ChangeStream).
 */
export class StreamRetention {
  private readonly job: PeriodicJob<number>;

  constructor(db: Database, clock: Clock, options: { intervalMs: number; retentionMs: number }, logger: Logger) {
    this.job = new PeriodicJob({
      name: 'change-stream-retention',
      intervalMs: options.intervalMs,
      db,
      clock,
      logger,
      round: async () => {
        const beforeMs = clock() - options.retentionMs;
        let trimmed = 0;
        for (;;) {
          const batch = await inTransaction(db, (trx) => trimStream({ trx, beforeMs, limit: BATCH }));
          trimmed += batch;
          if (batch < BATCH) break;
        }
        if (trimmed > 0) logger.info({ trimmed }, 'change stream trimmed');
        return trimmed;
      },
    });
  }

  start(): void {
    this.job.start();
  }

  /** One round now; returns how many events it deleted, or undefined if another replica holds the lease. */
  trimOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  /** Waits for a running round and gives the lease up. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}
