import type { ChangeEvent } from '@inventory/contracts/events';
import {
  detectionDebounced,
  isUnsegmented,
  itemKey,
  warrantsDetectedRebalance,
  type AllocationPlan,
  type Clock,
  type ItemNode,
  type SegmentKey,
} from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import {
  allCurrentAllocationPlans,
  inTransaction,
  lastDetectionMs,
  pruneDetections,
  readAllocationPlan,
  recordDetection,
  type Database,
  type DetectionKey,
} from '@inventory/store';
import type { Knex } from 'knex';
import type { RebalanceRuns } from './rebalance-runs';
import type { Rebalancer } from './rebalancer';
import { readStreamTail, skipStreamTail } from './stream-tail';

/** The actor of system-detected runs and of the supply changes they make. */
export const DETECTED_REBALANCE_ACTOR = 'system-detected-rebalance';
/** Whose cursor in the change stream the detector moves. */
const STREAM_CONSUMER = 'rebalance-detector';
/** Stream events per transaction, and transactions per round at most (the next round goes on). */
const BATCH = 500;
const BATCHES_PER_ROUND = 20;

export interface RebalanceDetectorOptions {
  /** Pause between rounds (0: rounds only on request). */
  readonly intervalMs: number;
  /** An item-node is rebalanced on a detection at most once per this many milliseconds, per segment type. */
  readonly debounceMs: number;
}

/** A segment whose availability was announced as zero at an item-node. */
interface ZeroedSegment {
  readonly itemNode: ItemNode;
  readonly segment: SegmentKey;
}

/**
 * System-detected rebalancing: follows the change stream for segments whose availability reached zero
 * (position_availability_changed with available 0 in a segment of a segment type whose plan is in force with
 * triggers_enabled) and, where another participant of the segment's rule holds more than its target and a
 * rebalance would take from it (see warrantsDetectedRebalance), starts a SYSTEM_DETECTED run over that item id
 * at that node. Debounced per segment type, item id and node: a detection within `debounceMs` of the last run
 * started there is dropped, not deferred (the scheduled rebalance, or the next zero after the window, catches
 * it up). Runs on one replica at a time (database lease); each batch of events is one transaction that also
 * moves the stream cursor, so a detection's run, its debounce record and the cursor commit together.
 */
export class RebalanceDetector {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly rebalancer: Rebalancer,
    private readonly runs: RebalanceRuns,
    private readonly options: RebalanceDetectorOptions,
    private readonly logger: Logger,
  ) {
    this.job = new PeriodicJob({
      name: 'rebalance-detector',
      intervalMs: options.intervalMs,
      db,
      clock,
      logger,
      round: () => this.detect(),
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
  detectOnce(): Promise<number | undefined> {
    return this.job.runOnce();
  }

  private async detect(): Promise<number> {
    // No plan in force with triggers on: nothing to detect, so the stream is passed over unread (a plan set
    // meanwhile is followed from the next round on).
    const triggering = (await allCurrentAllocationPlans({ db: this.db.knex })).some(
      (p) => p.enabled && p.triggersEnabled,
    );
    if (!triggering) {
      await inTransaction(this.db, (trx) => skipStreamTail(trx, STREAM_CONSUMER));
      return 0;
    }
    let started = 0;
    for (let batch = 0; batch < BATCHES_PER_ROUND; batch++) {
      const done = await inTransaction(this.db, (trx) => this.detectBatch(trx, this.clock()));
      started += done.started;
      if (!done.more) break;
    }
    if (started > 0) {
      this.logger.info({ started }, 'system-detected rebalance runs started');
      void this.runs.advanceOnce().catch((err: unknown) => this.logger.error({ err }, 'rebalance run worker failed'));
    }
    return started;
  }

  private async detectBatch(trx: Knex.Transaction, nowMs: number): Promise<{ started: number; more: boolean }> {
    const { events, more, trimmed } = await readStreamTail(trx, STREAM_CONSUMER, BATCH, [
      'position_availability_changed',
    ]);
    if (trimmed > 0) this.logger.warn({ trimmed }, 'the rebalance detector fell behind the change stream retention');
    await pruneDetections({ trx, beforeMs: nowMs - this.options.debounceMs });
    const plans = new Map<string, AllocationPlan | null>();
    let started = 0;
    for (const zeroed of zeroedSegments(events)) {
      const plan = await triggeringPlan(trx, zeroed.segment.segmentType, plans);
      if (plan && (await this.rebalanceIfWarranted(trx, nowMs, plan, zeroed))) started++;
    }
    return { started, more };
  }

  /** Starts a run over the zeroed segment's item id and node if the detection is not debounced and warranted. */
  private async rebalanceIfWarranted(
    trx: Knex.Transaction,
    nowMs: number,
    plan: AllocationPlan,
    { itemNode, segment }: ZeroedSegment,
  ): Promise<boolean> {
    const key: DetectionKey = { segmentType: plan.segmentType, itemId: itemNode.item.itemId, nodeId: itemNode.nodeId };
    if (detectionDebounced(await lastDetectionMs({ db: trx, key }), nowMs, this.options.debounceMs)) return false;
    const [allocation] = await this.rebalancer.simulate(trx, nowMs, plan, [itemNode]);
    if (!allocation || !warrantsDetectedRebalance(allocation, segment)) return false;
    const run = await this.runs.startSystemRun(
      trx,
      nowMs,
      { segmentType: plan.segmentType, itemIds: [key.itemId], nodeIds: [key.nodeId] },
      'SYSTEM_DETECTED',
      DETECTED_REBALANCE_ACTOR,
    );
    await recordDetection({ trx, key, detectMs: nowMs, runId: run.runId });
    return true;
  }
}

/** The segments (not the pool, which every segment type shares) announced with availability zero, once each. */
function zeroedSegments(events: readonly ChangeEvent[]): ZeroedSegment[] {
  const zeroed = new Map<string, ZeroedSegment>();
  for (const e of events) {
    const p = e.positionAvailabilityChanged;
    if (!p?.item || !p.segment || isUnsegmented(p.segment) || p.available !== 0) continue;
    const found: ZeroedSegment = {
      itemNode: { item: itemKey(p.item.itemId, p.item.unitOfMeasure, p.item.productClass), nodeId: p.nodeId },
      segment: { segmentType: p.segment.segmentType, segment: p.segment.segment },
    };
    zeroed.set(JSON.stringify(found), found);
  }
  return [...zeroed.values()];
}

/** The segment type's current plan if it is in force with triggers on; null otherwise. Memoised per batch. */
async function triggeringPlan(
  trx: Knex.Transaction,
  segmentType: string,
  plans: Map<string, AllocationPlan | null>,
): Promise<AllocationPlan | null> {
  if (!plans.has(segmentType)) {
    const current = await readAllocationPlan({ db: trx, segmentType });
    plans.set(segmentType, current?.plan.enabled && current.plan.triggersEnabled ? current.plan : null);
  }
  return plans.get(segmentType)!;
}
