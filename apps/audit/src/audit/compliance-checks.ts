import {
  checkComplianceQuery,
  deviationKeyId,
  deviationStart,
  type Clock,
  type ComplianceQuery,
  type DeviationKey,
  type ItemNodeCompliance,
  type PlanTargets,
} from '@inventory/domain';
import type { Logger } from '@inventory/runtime';
import { deviationsSince, lastSupplyChangeMs, recordDeviations, type Database } from '@inventory/store';

/** The current version of a segment type's plan: when it was made, and when each rule takes effect. */
export interface PlanVersion {
  readonly version: number;
  readonly createMs: number;
  readonly ruleEffectiveFromMs: ReadonlyMap<string, number | undefined>;
}

/** What the plans say now, as the allocation app reads them. */
export interface PlanReader {
  plan(segmentType: string): Promise<PlanVersion>;
  /** A page of item-nodes in scope with what a rebalance would move each participant to now. */
  dryRun(
    segmentType: string,
    scope: { itemIds: readonly string[]; nodeIds: readonly string[]; pageSize: number; pageToken: string },
  ): Promise<{ itemNodes: PlanTargets[]; nextPageToken: string }>;
  segmentTypes(): Promise<string[]>;
}

/** A page of compliance. */
export interface CompliancePage {
  readonly itemNodes: ItemNodeCompliance[];
  readonly nextPageToken: string;
  readonly checkMs: number;
}

/**
 * Segmentation compliance (see compliance_service.proto): each check compares a page of item-nodes with what
 * their plan says and remembers since when each deviation stands. Every `intervalMs` it checks every segment
 * type that has a plan, so that a deviation's start is known even when nobody asks.
 */
export class ComplianceChecks {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly plans: PlanReader,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  async check(q: ComplianceQuery): Promise<CompliancePage> {
    checkComplianceQuery(q);
    const plan = await this.plans.plan(q.segmentType);
    const page = await this.plans.dryRun(q.segmentType, q);
    const checkMs = this.clock();
    const itemNodes = await this.compare(q.segmentType, plan, page.itemNodes, checkMs);
    return {
      itemNodes: q.includeCompliant ? itemNodes : itemNodes.filter((n) => !n.compliant),
      nextPageToken: page.nextPageToken,
      checkMs,
    };
  }

  start(): void {
    if (this.intervalMs > 0) this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Checks every item-node of every plan once. */
  async checkAll(): Promise<void> {
    for (const segmentType of await this.plans.segmentTypes()) {
      let pageToken = '';
      try {
        do {
          const page = await this.check({
            segmentType,
            itemIds: [],
            nodeIds: [],
            includeCompliant: false,
            pageSize: 1000,
            pageToken,
          });
          pageToken = page.nextPageToken;
        } while (pageToken !== '' && !this.stopped);
      } catch (err) {
        // A segment type without a plan has nothing to check.
        if ((err as { reason?: string }).reason !== 'ALLOCATION_PLAN_NOT_FOUND') throw err;
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.checkAll()
        .catch((err: unknown) => this.logger.warn({ err }, 'compliance check failed; trying again next round'))
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Each item-node's participants against the plan; stores the deviations that began and ended. */
  private async compare(
    segmentType: string,
    plan: PlanVersion,
    targets: readonly PlanTargets[],
    nowMs: number,
  ): Promise<ItemNodeCompliance[]> {
    const planned = targets.filter((t) => t.ruleId !== '');
    const keyOf = (t: PlanTargets, p: PlanTargets['participants'][number]): DeviationKey => ({
      planSegmentType: segmentType,
      item: t.item,
      nodeId: t.nodeId,
      segment: p.segment,
      supplyType: p.supplyType,
    });
    const deviating = planned.flatMap((t) =>
      t.participants.filter((p) => p.actual !== p.planned).map((p) => ({ target: t, key: keyOf(t, p) })),
    );
    const ended = planned.flatMap((t) => t.participants.filter((p) => p.actual === p.planned).map((p) => keyOf(t, p)));
    const known = await deviationsSince(
      this.db,
      deviating.map((d) => d.key),
    );
    const started: Array<{ key: DeviationKey; sinceMs: number }> = [];
    // The participants of one item-node and supply type share their last supply change: read once.
    const lastChanges = new Map<string, Promise<number | null>>();
    for (const { target, key } of deviating) {
      if (known.has(deviationKeyId(key))) continue;
      const changeKey = JSON.stringify([target.item, target.nodeId, key.supplyType]);
      if (!lastChanges.has(changeKey))
        lastChanges.set(changeKey, lastSupplyChangeMs(this.db, key.item, key.nodeId, key.supplyType, segmentType));
      const sinceMs = deviationStart(
        [await lastChanges.get(changeKey), plan.createMs, plan.ruleEffectiveFromMs.get(target.ruleId)],
        nowMs,
      );
      started.push({ key, sinceMs });
      known.set(deviationKeyId(key), sinceMs);
    }
    if (started.length > 0 || ended.length > 0) await recordDeviations(this.db, started, ended);
    return planned.map((t) => {
      const participants = t.participants.map((p) => ({
        ...p,
        deviation: p.actual - p.planned,
        sinceMs: p.actual === p.planned ? undefined : known.get(deviationKeyId(keyOf(t, p))),
      }));
      return {
        item: t.item,
        nodeId: t.nodeId,
        ruleId: t.ruleId,
        planVersion: t.planVersion,
        compliant: participants.every((p) => p.deviation === 0),
        participants,
      };
    });
  }
}
