import type { Knex } from 'knex';
import type { AllocationPlan } from '@inventory/domain';
import { integerOf, jsonOf, type IntegerColumn } from '../tables/columns';

/** A row of `allocation_plan_versions`: one version of a segment type's plan. */
interface AllocationPlanRow {
  readonly segment_type: string;
  readonly version: IntegerColumn;
  readonly plan: string;
  readonly request_id: string;
  readonly create_ms: IntegerColumn;
}

/** What the `plan` column holds: the plan without the two fields that are columns of their own. */
type StoredPlan = Omit<AllocationPlan, 'segmentType' | 'version'>;

/** A version of a plan, with the request that made it and when. */
export interface AllocationPlanVersion {
  readonly plan: AllocationPlan;
  readonly requestId: string;
  readonly createMs: number;
}

function versionOf(row: AllocationPlanRow): AllocationPlanVersion {
  const stored = jsonOf<StoredPlan>(row.plan);
  return {
    plan: {
      segmentType: row.segment_type,
      version: integerOf(row.version, 'allocation_plan_versions.version'),
      rules: stored.rules,
      rebalanceEveryMs: stored.rebalanceEveryMs,
      triggersEnabled: stored.triggersEnabled,
      enabled: stored.enabled,
    },
    requestId: row.request_id,
    createMs: integerOf(row.create_ms, 'allocation_plan_versions.create_ms'),
  };
}

/**
 * One version of a segment type's plan, the highest when `version` is not given; undefined if the segment
 * type has no plan or no such version.
 */
export async function readAllocationPlan({
  db,
  segmentType,
  version,
}: {
  db: Knex;
  segmentType: string;
  version?: number;
}): Promise<AllocationPlanVersion | undefined> {
  const query = db('allocation_plan_versions').where({ segment_type: segmentType });
  const row: AllocationPlanRow | undefined = await (version === undefined
    ? query.orderBy('version', 'desc').first()
    : query.where({ version }).first());
  return row && versionOf(row);
}

/**
 * Stores the next version of a segment type's plan (one more than its highest, 1 for the first). It takes
 * no lock: two writers that race for the same version collide on the primary key and the loser's
 * transaction is retried, reading the winner's version.
 */
export async function insertAllocationPlan({
  trx,
  plan,
  requestId,
  nowMs,
}: {
  trx: Knex.Transaction;
  plan: Omit<AllocationPlan, 'version'>;
  requestId: string;
  nowMs: number;
}): Promise<AllocationPlanVersion> {
  const current = await readAllocationPlan({ db: trx, segmentType: plan.segmentType });
  const next: AllocationPlan = { ...plan, version: (current?.plan.version ?? 0) + 1 };
  const stored: StoredPlan = {
    rules: next.rules,
    rebalanceEveryMs: next.rebalanceEveryMs,
    triggersEnabled: next.triggersEnabled,
    enabled: next.enabled,
  };
  await trx('allocation_plan_versions').insert({
    segment_type: next.segmentType,
    version: next.version,
    plan: JSON.stringify(stored),
    request_id: requestId,
    create_ms: nowMs,
  });
  return { plan: next, requestId, createMs: nowMs };
}

/**
 * The current (highest) version of each segment type's plan, for segment types after `afterSegmentType` in
 * id order (keyset pagination), at most `limit` of them.
 */
export async function listCurrentAllocationPlans({
  db,
  afterSegmentType,
  limit,
}: {
  db: Knex;
  afterSegmentType: string;
  limit: number;
}): Promise<AllocationPlanVersion[]> {
  const rows: AllocationPlanRow[] = await db('allocation_plan_versions as p')
    .select('p.*')
    .where('p.segment_type', '>', afterSegmentType)
    .where(
      'p.version',
      db('allocation_plan_versions as q').max('q.version').where('q.segment_type', db.ref('p.segment_type')),
    )
    .orderBy('p.segment_type')
    .limit(limit);
  return rows.map(versionOf);
}

/** The current plan of every segment type that has one, in segment type order (read page by page). */
export async function allCurrentAllocationPlans({ db }: { db: Knex }): Promise<AllocationPlan[]> {
  const pageSize = 100;
  const plans: AllocationPlan[] = [];
  for (let afterSegmentType = ''; ;) {
    const page = await listCurrentAllocationPlans({ db, afterSegmentType, limit: pageSize });
    plans.push(...page.map((v) => v.plan));
    if (page.length < pageSize) return plans;
    afterSegmentType = page.at(-1)!.plan.segmentType;
  }
}

/** Versions of a segment type's plan older than `beforeVersion`, newest first, at most `limit` of them. */
export async function listAllocationPlanVersions({
  db,
  segmentType,
  beforeVersion,
  limit,
}: {
  db: Knex;
  segmentType: string;
  beforeVersion: number;
  limit: number;
}): Promise<AllocationPlanVersion[]> {
  const rows: AllocationPlanRow[] = await db('allocation_plan_versions')
    .where({ segment_type: segmentType })
    .where('version', '<', beforeVersion)
    .orderBy('version', 'desc')
    .limit(limit);
  return rows.map(versionOf);
}
