import { randomUUID } from 'node:crypto';
import {
  AllocationPlanNotFoundError,
  InvalidArgumentError,
  parsePageSize,
  parsePlan,
  parseRulesVersion,
  requireSegmentTypeId,
  SegmentTypeNotFoundError,
  Violations,
  type AllocationPlanInput,
  type Clock,
  type ParsedPlan,
} from '@inventory/domain';
import {
  appendOutbox,
  getSegmentType,
  insertAllocationPlan,
  listAllocationPlanVersions,
  listCurrentAllocationPlans,
  mutate,
  readAllocationPlan,
  type AllocationPlanVersion,
  type Database,
  decodePageToken,
  page,
} from '@inventory/store';
import type { Knex } from 'knex';
import { allocationPlanChangedEvent } from '../events/change-events';
import { requireUsableSegments } from './segment-catalog';

/** The allocation plans of the segment types, by version. Setting a plan moves no stock yet. */
export class AllocationPlanBook {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Makes the plan sent the next version of its segment type's plan. The segment type and the segments the
   * plan names are checked in the transaction that stores it, the segments locked, so that none is retired
   * between the check and the commit.
   */
  async set(requestId: string, input: AllocationPlanInput): Promise<AllocationPlanVersion> {
    const { plan, segments } = parseSetPlan(requestId, input);
    return mutate(
      { db: this.db, clock: this.clock, method: 'SetAllocationPlan', requestId, request: plan },
      async (trx, nowMs) => {
        await requireSegmentType(trx, plan.segmentType);
        await requireUsableSegments(
          trx,
          segments.map((s) => [`plan.${s.field}`, s.segment]),
          { lock: true },
        );
        const version = await insertAllocationPlan({ trx, plan, requestId, nowMs });
        await appendOutbox({
          trx,
          events: [allocationPlanChangedEvent({ actionId: randomUUID(), requestId, occurMs: nowMs }, version)],
        });
        return version;
      },
    );
  }

  /** One version of a segment type's plan; 0 for the current one. */
  async get(segmentType: string, version: number): Promise<AllocationPlanVersion> {
    requireSegmentTypeId('segment_type', segmentType);
    const wanted = parseRulesVersion(version);
    await requireSegmentType(this.db.knex, segmentType);
    const found = await readAllocationPlan({
      db: this.db.knex,
      segmentType,
      version: wanted === 0 ? undefined : wanted,
    });
    if (!found) throw new AllocationPlanNotFoundError(segmentType, wanted);
    return found;
  }

  /** The current version of each plan, by segment type. */
  async listCurrent(pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const after = decodePageToken(pageToken, 'allocation_plans', '');
    const rows = await listCurrentAllocationPlans({ db: this.db.knex, afterSegmentType: after, limit: size + 1 });
    return page(rows, size, (v) => v.plan.segmentType, 'allocation_plans');
  }

  /** The versions of one segment type's plan, newest first. */
  async listVersions(segmentType: string, pageSize: number, pageToken: string) {
    requireSegmentTypeId('segment_type', segmentType);
    const size = parsePageSize(pageSize);
    const filters = `allocation_plan_versions:${segmentType}`;
    const before = decodePageToken(pageToken, filters, Number.MAX_SAFE_INTEGER);
    await requireSegmentType(this.db.knex, segmentType);
    const rows = await listAllocationPlanVersions({
      db: this.db.knex,
      segmentType,
      beforeVersion: before,
      limit: size + 1,
    });
    return page(rows, size, (v) => v.plan.version, filters);
  }
}

/**
 * parsePlan's checks with the request_id's, every field named by its path in SetAllocationPlanRequest (the
 * plan's fields under `plan.`).
 */
function parseSetPlan(requestId: string, input: AllocationPlanInput): ParsedPlan {
  const v = new Violations();
  v.requestId('request_id', requestId);
  let parsed: ParsedPlan | undefined;
  try {
    parsed = parsePlan(input);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    for (const violation of err.violations) v.add(`plan.${violation.field}`, violation.description);
  }
  v.throwIfAny();
  return parsed!;
}

async function requireSegmentType(db: Knex, segmentType: string): Promise<void> {
  if (!(await getSegmentType({ db, segmentType }))) throw new SegmentTypeNotFoundError(segmentType);
}
