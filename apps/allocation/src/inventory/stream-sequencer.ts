import type { Clock } from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import { inTransaction, stampStreamPositions, type Database } from '@inventory/store';

/** Rows one transaction stamps: enough to keep up with bursts, small enough to keep the transaction short. */
const BATCH = 1000;

/**
 * Gives committed change events their stream positions, every `intervalMs` (0: only when asked), on one
 * replica at a time: the change stream's single sequencer (see change_stream_service.proto for why one, and
 * why the order it sees commits in is a valid stream order). A round stamps batches until none is full, so
 * a backlog (the rows written before the stream existed, or after an outage) is worked off in one round.
 */
export class StreamSequencer {
  private readonly job: PeriodicJob<number>;

  constructor(db: Database, clock: Clock, intervalMs: number, logger: Logger) {
    this.job = new PeriodicJob({
      name: 'change-stream-sequencer',
      intervalMs,
      db,
      clock,
      logger,
      round: async () => {
        let stamped = 0;
        for (;;) {
          const batch = await inTransaction(db, (trx) => stampStreamPositions({ trx, limit: BATCH, nowMs: clock() }));
          stamped += batch;
          if (batch < BATCH) return stamped;
        }
      },
    });
  }

  start(): void {
    this.job.start();
  }

  /** One round now; returns how many events it stamped, or undefined if another replica holds the lease. */
  stampOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  /** Waits for a running round and gives the lease up. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}
