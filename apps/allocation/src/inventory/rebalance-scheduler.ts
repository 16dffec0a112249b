import {
  afterScheduledRun,
  sameSchedule,
  scheduleFor,
  type AllocationPlan,
  type Clock,
  type RebalanceSchedule,
} from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import {
  deleteRebalanceSchedule,
  hasRunningRebalanceRun,
  inTransaction,
  allCurrentAllocationPlans,
  listRebalanceSchedules,
  readRebalanceSchedule,
  writeRebalanceSchedule,
  type Database,
} from '@inventory/store';
import type { Knex } from 'knex';
import type { RebalanceRuns } from './rebalance-runs';

/** The actor of scheduled runs and of the supply changes they make. */
export const SCHEDULED_REBALANCE_ACTOR = 'scheduled-rebalance';

/**
 * Scheduled rebalancing: every plan in force with a rebalance_every rebalances its whole segment type that
 * often. Each segment type's next run time is kept in the database (it survives restarts and moves between
 * replicas); a job on one replica at a time (database lease) looks every `intervalMs` for schedules that are
 * due, starts their runs and leaves them to the run worker. A due schedule waits while a run of its segment
 * type is RUNNING, so that runs of one type never overlap; it starts at the first look after that run ends.
 */
export class RebalanceScheduler {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly runs: RebalanceRuns,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.job = new PeriodicJob({
      name: 'rebalance-scheduler',
      intervalMs,
      db,
      clock,
      logger,
      round: () => this.startDueRuns(),
    });
  }

  start(): void {
    this.job.start();
  }

  /** Waits for a running round and gives the lease up. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One round now; returns the runs it started, or undefined if another replica holds the lease. */
  scheduleOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  /**
   * What a round does, lease aside: brings every segment type's schedule in line with its current plan and
   * starts the runs that are due, each in a transaction with the schedule's new next run time. Several of
   * these at once (a replica whose lease ran out while another took it) still start a due run once: each
   * decides under its schedule's row lock. Returns the runs started; the run worker is kicked for them.
   */
  async startDueRuns(): Promise<number> {
    const stored = new Map((await listRebalanceSchedules({ db: this.db.knex })).map((s) => [s.segmentType, s]));
    let started = 0;
    for (const plan of await allCurrentAllocationPlans({ db: this.db.knex })) {
      const nowMs = this.clock();
      const wanted = scheduleFor(plan, stored.get(plan.segmentType), nowMs);
      // Most rounds change nothing: no transaction for a schedule that is neither due nor changed.
      const idle = wanted
        ? wanted.nextRunMs > nowMs && sameSchedule(stored.get(plan.segmentType), wanted)
        : !stored.has(plan.segmentType);
      if (idle) continue;
      if (await inTransaction(this.db, (trx) => this.schedule(trx, this.clock(), plan))) started++;
    }
    if (started > 0) {
      this.logger.info({ started }, 'scheduled rebalance runs started');
      void this.runs.advanceOnce().catch((err: unknown) => this.logger.error({ err }, 'rebalance run worker failed'));
    }
    return started;
  }

  /** Decides one segment type's schedule under its row lock; returns whether it started a run. */
  private async schedule(trx: Knex.Transaction, nowMs: number, plan: AllocationPlan): Promise<boolean> {
    const stored = await readRebalanceSchedule({ db: trx, segmentType: plan.segmentType, lock: true });
    const wanted = scheduleFor(plan, stored, nowMs);
    if (!wanted) {
      if (stored) await deleteRebalanceSchedule({ trx, segmentType: plan.segmentType });
      return false;
    }
    if (wanted.nextRunMs <= nowMs && !(await hasRunningRebalanceRun({ db: trx, segmentType: plan.segmentType }))) {
      await this.runs.startSystemRun(
        trx,
        nowMs,
        { segmentType: plan.segmentType, itemIds: [], nodeIds: [] },
        'SCHEDULED',
        SCHEDULED_REBALANCE_ACTOR,
      );
      await this.write(trx, stored, afterScheduledRun(wanted, nowMs));
      return true;
    }
    await this.write(trx, stored, wanted);
    return false;
  }

  private async write(trx: Knex.Transaction, stored: RebalanceSchedule | undefined, schedule: RebalanceSchedule) {
    if (!sameSchedule(stored, schedule)) await writeRebalanceSchedule({ trx, schedule });
  }
}
