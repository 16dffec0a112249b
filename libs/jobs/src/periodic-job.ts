import { randomUUID } from 'node:crypto';
import type { Clock } from '@inventory/domain';
import type { Logger } from '@inventory/runtime';
import { acquireLease, inTransaction, releaseLease, type Database } from '@inventory/store';

export interface PeriodicJobOptions<T> {
  /** The lease's name: every replica running the same job competes for it. */
  readonly name: string;
  /** Pause between the end of one round and the start of the next; 0 runs no rounds on a timer. */
  readonly intervalMs: number;
  /** How long a lease lasts once taken; each round renews it. Default: three intervals, at least 30 s. */
  readonly leaseTtlMs?: number;
  readonly db: Database;
  readonly clock: Clock;
  readonly logger: Logger;
  /** One round of the work; runs only while this replica holds the lease. */
  readonly round: () => Promise<T>;
}

/**
 * Scheduled work that one replica at a time runs. Each round first takes (or renews) a lease in the database
 * that outlives the interval and is skipped while another replica holds it, so the work moves to another
 * replica only when this one gives the lease up or stops renewing it. Rounds never overlap: the next is
 * timed from the end of the last. A failing round is logged and the next one still runs. `stop()` waits for
 * a running round, then gives the lease up so that another replica takes over at its next round.
 */
export class PeriodicJob<T> {
  /** Who this replica is, in the lease row. */
  readonly holder = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private latest: Promise<unknown> = Promise.resolve();
  /** When (by the job's clock) this replica last took or renewed the lease; undefined if it does not hold it. */
  private leasedAtMs: number | undefined;

  constructor(private readonly options: PeriodicJobOptions<T>) {}

  /** Runs a round every interval from now on (the first one interval from now). */
  start(): void {
    if (this.options.intervalMs > 0) this.scheduleNext();
  }

  /**
   * Runs one round now, after the running one if any. Returns what the round returned, or undefined when
   * another replica holds the lease (or this job has stopped); a round's error is thrown to the caller.
   */
  runOnce(): Promise<T | undefined> {
    const round = this.latest.then(() => this.leasedRound());
    this.latest = round.catch(() => undefined);
    return round;
  }

  /**
   * Runs one round now, after the running one if any, without renewing the lease, if this replica took or
   * renewed it less than half its lifetime ago (so it surely still holds it); otherwise does nothing and
   * returns undefined. For work that a hint asks to be done at once between the timed rounds.
   */
  runIfLeased(): Promise<T | undefined> {
    const round = this.latest.then(() => (this.stopped || !this.leaseFresh() ? undefined : this.options.round()));
    this.latest = round.catch(() => undefined);
    return round;
  }

  /** Runs no more rounds, waits for the running one and gives the lease up. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leasedAtMs = undefined;
    clearTimeout(this.timer);
    await this.latest;
    await releaseLease({ db: this.options.db.knex, name: this.options.name, holder: this.holder });
  }

  private scheduleNext(): void {
    this.timer = setTimeout(() => {
      void this.runOnce()
        .catch((err: unknown) =>
          this.options.logger.error({ err, job: this.options.name }, 'periodic job round failed'),
        )
        .finally(() => {
          if (!this.stopped) this.scheduleNext();
        });
    }, this.options.intervalMs);
    // A job alone must not keep the process alive; the server does.
    this.timer.unref();
  }

  private async leasedRound(): Promise<T | undefined> {
    if (this.stopped) return undefined;
    const { db, clock, name } = this.options;
    const nowMs = clock();
    const held = await inTransaction(db, (trx) =>
      acquireLease({ trx, name, holder: this.holder, nowMs, ttlMs: this.leaseTtlMs }),
    );
    this.leasedAtMs = held ? nowMs : undefined;
    // stop() may have come while the lease was being taken: it promises no more rounds (and gives the lease up).
    return held && !this.stopped ? this.options.round() : undefined;
  }

  private leaseFresh(): boolean {
    return this.leasedAtMs !== undefined && this.options.clock() - this.leasedAtMs < this.leaseTtlMs / 2;
  }

  private get leaseTtlMs(): number {
    return this.options.leaseTtlMs ?? Math.max(3 * this.options.intervalMs, 30_000);
  }
}
