import type { Clock } from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import type { Database } from '@inventory/store';
import type { ReservationChanges } from './reservation-changes';

const BATCH = 500;

/**
 * Releases expired reservations every `intervalMs` (0: never), on one replica at a time. Expired
 * reservations stop counting at their expiry anyway; the sweeper frees their rows and records the expiry on
 * the change stream.
 */
export class ExpirySweeper {
  private readonly job: PeriodicJob<number>;

  constructor(db: Database, clock: Clock, reservations: ReservationChanges, intervalMs: number, logger: Logger) {
    this.job = new PeriodicJob({
      name: 'reservation-expiry-sweeper',
      intervalMs,
      db,
      clock,
      logger,
      round: async () => {
        const expired = await reservations.sweepExpired(BATCH);
        if (expired > 0) logger.info({ expired }, 'expired reservations released');
        return expired;
      },
    });
  }

  start(): void {
    this.job.start();
  }

  /** One round now; returns how many reservations it expired, or undefined if another replica holds the lease. */
  sweepOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  /** Waits for a running round and gives the lease up. */
  stop(): Promise<void> {
    return this.job.stop();
  }
}
