import type { AllocationPlan } from './allocation-plans';
import type { SegmentKey } from './keys';
import type { ItemNodeAllocation } from './rebalancing';

/**
 * When the service rebalances on its own (DESIGN §2 "Segmentation", triggers): on its plan's schedule, and
 * when a segment's availability reaches zero while another participant of its rule holds more than its
 * target.
 */

/** A segment type's schedule: when its next scheduled rebalance is due, and what it was computed from. */
export interface RebalanceSchedule {
  readonly segmentType: string;
  readonly nextRunMs: number;
  /** The plan's rebalance_every the next run time follows. */
  readonly everyMs: number;
  /** The plan version the schedule was last set from. */
  readonly planVersion: number;
}

/**
 * The schedule `plan` calls for at `nowMs`, given the stored one; `null` when the plan rebalances on no
 * schedule (disabled, or no frequency), so that the stored one is dropped.
 * - A plan newly on a schedule is first due one interval from now.
 * - A changed frequency counts from the change, but never delays a run already due sooner:
 *   next = min(stored next, now + new interval). Shortening takes effect at once; lengthening keeps the run
 *   already promised, and the new interval applies after it.
 * - A plan version that keeps the frequency keeps the next run time.
 */
export function scheduleFor(
  plan: AllocationPlan,
  stored: RebalanceSchedule | undefined,
  nowMs: number,
): RebalanceSchedule | null {
  const everyMs = plan.rebalanceEveryMs;
  if (!plan.enabled || everyMs === null) return null;
  const nextRunMs = !stored
    ? nowMs + everyMs
    : stored.everyMs === everyMs
      ? stored.nextRunMs
      : Math.min(stored.nextRunMs, nowMs + everyMs);
  return { segmentType: plan.segmentType, nextRunMs, everyMs, planVersion: plan.version };
}

/**
 * The schedule once a scheduled run started at `nowMs`: next due one interval after the start, not after the
 * time it was due, so that runs missed while no replica ran the scheduler are made up by one run, not a burst.
 */
export function afterScheduledRun(schedule: RebalanceSchedule, nowMs: number): RebalanceSchedule {
  return { ...schedule, nextRunMs: nowMs + schedule.everyMs };
}

/** Whether two schedules say the same. */
export function sameSchedule(a: RebalanceSchedule | undefined, b: RebalanceSchedule): boolean {
  return (
    a !== undefined &&
    a.segmentType === b.segmentType &&
    a.nextRunMs === b.nextRunMs &&
    a.everyMs === b.everyMs &&
    a.planVersion === b.planVersion
  );
}

/**
 * Whether an item-node where `segment`'s availability reached zero calls for a system-detected rebalance, by
 * what rebalancing it would do now (`allocation`): the rule that applies names `segment`, and another of its
 * participants (a segment or the unsegmented pool) holds more ONHAND than its target and would give some of
 * it. A participant above its target only because its own commitments need it gives nothing, and does not
 * count; nor does a supply type the rebalance leaves alone.
 */
export function warrantsDetectedRebalance(allocation: ItemNodeAllocation, segment: SegmentKey): boolean {
  const onhand = allocation.result?.types.find((t) => t.supplyType === 'ONHAND');
  if (!onhand?.segments.some((s) => sameSegment(s.segment, segment))) return false;
  return onhand.segments.some((s) => !sameSegment(s.segment, segment) && s.before > s.target && s.after < s.before);
}

/** Whether a system-detected rebalance at `lastMs` still holds off another one at `nowMs`. */
export function detectionDebounced(lastMs: number | undefined, nowMs: number, debounceMs: number): boolean {
  return lastMs !== undefined && nowMs - lastMs < debounceMs;
}

function sameSegment(a: SegmentKey, b: SegmentKey): boolean {
  return a.segmentType === b.segmentType && a.segment === b.segment;
}
