import { isUnsegmented, type SegmentKey } from './keys';
import type { SupplyType } from './supply';

/**
 * Physical-total sync (DESIGN §2): a warehouse counts the units on the shelf, not who owns them. A total for
 * an item, node, supply type and ETA sets the unsegmented pool so that pool + segments = total; a total below
 * the segments' sum empties the pool and takes the rest from the segments in reverse priority, never below a
 * segment's commitments.
 */

/** A segment's row at the total's item, node, supply type and ETA. */
export interface PhysicalTotalSegment {
  readonly segment: SegmentKey;
  readonly quantity: number;
  /** The segment's counted demand + active holds at the item-node. */
  readonly commitments: number;
}

/** The segments an applying rule walks, in its walk order (the pool among them is ignored). */
export interface PlanWalk {
  readonly segmentType: string;
  readonly segments: readonly SegmentKey[];
}

export interface PhysicalTotalInput {
  readonly supplyType: SupplyType;
  readonly total: number;
  /** Every segment's row at the total's key, of any segment type. */
  readonly segments: readonly PhysicalTotalSegment[];
  /** The walk of each plan whose rule applies to the item-node, one per segment type. */
  readonly walks: readonly PlanWalk[];
}

/** A segment row the total takes units from. */
export interface SegmentReduction {
  readonly segment: SegmentKey;
  readonly before: number;
  readonly after: number;
}

export interface PhysicalTotalSplit {
  /** The pool's new quantity. */
  readonly pool: number;
  /** The segments that shrink, in the order they were taken from. */
  readonly reductions: readonly SegmentReduction[];
  /**
   * Units the segments still hold beyond the total because their commitments kept them: stock the records
   * show and the shelf does not have, until a count or a later total corrects it.
   */
  readonly unresolved: number;
}

/** The pool's and the segments' new quantities for a physical total. */
export function splitPhysicalTotal(input: PhysicalTotalInput): PhysicalTotalSplit {
  const held = input.segments.reduce((sum, s) => sum + s.quantity, 0);
  if (input.total >= held) return { pool: input.total - held, reductions: [], unresolved: 0 };
  let over = held - input.total;
  const reductions: SegmentReduction[] = [];
  for (const segment of reductionOrder(input.segments, input.walks)) {
    if (over === 0) break;
    const take = Math.min(over, Math.max(0, segment.quantity - floorOf(input.supplyType, segment.commitments)));
    if (take === 0) continue;
    over -= take;
    reductions.push({ segment: segment.segment, before: segment.quantity, after: segment.quantity - take });
  }
  return { pool: 0, reductions, unresolved: over };
}

/**
 * The segments in the order a total below their sum takes from them, the lowest priority first: segments no
 * applying rule names, in reverse key order; then the rules' segments in reverse walk order, the plans in
 * reverse segment type order. A rule's segment with no row here has nothing to give and is left out.
 */
export function reductionOrder(
  segments: readonly PhysicalTotalSegment[],
  walks: readonly PlanWalk[],
): PhysicalTotalSegment[] {
  const byId = new Map(segments.map((s) => [segmentId(s.segment), s]));
  const byPriority = [...walks]
    .sort((a, b) => compare(a.segmentType, b.segmentType))
    .flatMap((w) => w.segments.filter((s) => !isUnsegmented(s)));
  const named = new Set(byPriority.map(segmentId));
  const unnamed = segments
    .filter((s) => !named.has(segmentId(s.segment)))
    .sort(
      (a, b) => compare(b.segment.segmentType, a.segment.segmentType) || compare(b.segment.segment, a.segment.segment),
    );
  const ruled = byPriority
    .reverse()
    .map((s) => byId.get(segmentId(s)))
    .filter((s): s is PhysicalTotalSegment => s !== undefined);
  return [...unnamed, ...ruled];
}

/**
 * What a segment's row may not be taken below: its commitments on ONHAND, the type that counts now; supply of
 * the other types counts only from its ETA and covers no commitment (as in the allocation engine's floor).
 */
function floorOf(supplyType: SupplyType, commitments: number): number {
  return supplyType === 'ONHAND' ? Math.max(0, commitments) : 0;
}

const segmentId = (s: SegmentKey) => JSON.stringify([s.segmentType, s.segment]);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
