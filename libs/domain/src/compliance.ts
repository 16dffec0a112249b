import type { ItemKey, SegmentKey } from './keys';
import type { SupplyType } from './supply';
import { MAX_ID_LENGTH, MAX_PAGE_SIZE, MAX_SEGMENT_TYPE_LENGTH, Violations } from './validation';

/**
 * Segmentation compliance (audit.v1.ComplianceService): what each participant of an item-node's plan holds
 * against what the plan says now, and since when a deviation stands.
 */

/** What a rebalance would move an item-node to now: each participant's quantity and target per supply type. */
export interface PlanTargets {
  readonly item: ItemKey;
  readonly nodeId: string;
  /** Empty when no rule of the plan applies to the item-node. */
  readonly ruleId: string;
  readonly planVersion: number;
  readonly participants: ReadonlyArray<{
    readonly segment: SegmentKey;
    readonly supplyType: SupplyType;
    readonly actual: number;
    readonly planned: number;
  }>;
}

/** One participant of one supply type, with its deviation (actual - planned). */
export interface ParticipantCompliance {
  readonly segment: SegmentKey;
  readonly supplyType: SupplyType;
  readonly actual: number;
  readonly planned: number;
  readonly deviation: number;
  /** When the deviation began; undefined when there is none. */
  readonly sinceMs?: number;
}

export interface ItemNodeCompliance {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly ruleId: string;
  readonly planVersion: number;
  readonly compliant: boolean;
  readonly participants: readonly ParticipantCompliance[];
}

/** Names one participant of one item-node under one segment type's plan. */
export interface DeviationKey {
  readonly planSegmentType: string;
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  readonly supplyType: SupplyType;
}

export function deviationKeyId(k: DeviationKey): string {
  return JSON.stringify([
    k.planSegmentType,
    k.item.itemId,
    k.item.unitOfMeasure,
    k.item.productClass,
    k.nodeId,
    k.segment.segmentType,
    k.segment.segment,
    k.supplyType,
  ]);
}

/**
 * When a deviation seen for the first time began, at the latest: the last of what could have caused it (a
 * supply change, the plan version, the rule becoming effective), and never after now.
 */
export function deviationStart(causesMs: ReadonlyArray<number | null | undefined>, nowMs: number): number {
  const known = causesMs.filter((ms): ms is number => typeof ms === 'number');
  return Math.min(nowMs, known.length > 0 ? Math.max(...known) : nowMs);
}

export interface ComplianceQuery {
  readonly segmentType: string;
  readonly itemIds: readonly string[];
  readonly nodeIds: readonly string[];
  readonly includeCompliant: boolean;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** Checks a GetSegmentationCompliance request. */
export function checkComplianceQuery(q: ComplianceQuery): void {
  const v = new Violations();
  v.id('segment_type', q.segmentType, MAX_SEGMENT_TYPE_LENGTH);
  if (q.itemIds.length > 1000) v.add('item_ids', 'must have at most 1000 entries');
  q.itemIds.forEach((id, i) => v.text(`item_ids[${i}]`, id, MAX_ID_LENGTH, true));
  if (q.nodeIds.length > 1000) v.add('node_ids', 'must have at most 1000 entries');
  q.nodeIds.forEach((id, i) => v.id(`node_ids[${i}]`, id));
  if (!Number.isInteger(q.pageSize) || q.pageSize < 0 || q.pageSize > MAX_PAGE_SIZE)
    v.add('page_size', `must be from 0 to ${MAX_PAGE_SIZE}`);
  v.throwIfAny();
}
