import { randomUUID } from 'node:crypto';
import type { Logger } from '@inventory/grpc-server';
import { acquireLease, inTransaction, releaseLease, type Database } from '@inventory/store';
import type { Clock } from './clock';
import type { ReservationChanges } from './reservation-changes';

const LEASE = 'reservation-expiry-sweeper';
const BATCH = 500;

/**
 * Releases expired reservations every `intervalMs`, on one replica at a time: each round first takes
 * (or renews) a lease in the database that outlives the interval, and skips the round if another replica
 * holds it. Expired reservations stop counting at their expiry anyway; the sweeper frees their rows and
 * records the expiry on the change stream.
 */
export class ExpirySweeper {
  private readonly holder = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly reservations: ReservationChanges,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMs === 0) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => void (await this.sweepOnce())).catch((err: unknown) => this.logger.error({ err }, 'expiry sweep failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round; returns how many reservations it expired, or undefined if another replica holds the lease. */
  async sweepOnce(): Promise<number | undefined> {
    const held = await inTransaction(this.db, (trx) =>
      acquireLease({ trx, name: LEASE, holder: this.holder, nowMs: this.clock(), ttlMs: Math.max(3 * this.intervalMs, 30_000) }),
    );
    if (!held) return undefined;
    const expired = await this.reservations.sweepExpired(BATCH);
    if (expired > 0) this.logger.info({ expired }, 'expired reservations released');
    return expired;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await releaseLease({ db: this.db.knex, name: LEASE, holder: this.holder });
  }
}
