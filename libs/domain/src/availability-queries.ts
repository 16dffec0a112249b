import type { ItemKey, SegmentKey } from './keys';
import { MAX_TIME_MS, Violations } from './validation';

/** Where an availability question looks: one node, or every node of a distribution group. */
export type AvailabilityScope = { readonly nodeId: string } | { readonly distributionGroupId: string };

export interface AvailabilityQuery {
  readonly item: ItemKey;
  readonly scope: AvailabilityScope;
  readonly segment: SegmentKey;
  /** Count future supply due by this time. */
  readonly asOfMs: number;
}

export interface AvailabilityQueryInput {
  readonly item: ItemKey | undefined;
  readonly nodeId: string | undefined;
  readonly distributionGroupId: string | undefined;
  readonly segment: SegmentKey;
  /** `undefined` means now. */
  readonly asOfMs: number | undefined;
}

/** How far ahead availability by date may look. */
export const MAX_HORIZON_MS = 366 * 86_400_000;

export function parseAvailabilityQuery(input: AvailabilityQueryInput, nowMs: number): AvailabilityQuery {
  const v = new Violations();
  const scope = checkQuery(v, input);
  if (input.asOfMs !== undefined) v.time('as_of_time', input.asOfMs);
  v.throwIfAny();
  return { item: input.item as ItemKey, scope, segment: input.segment, asOfMs: input.asOfMs ?? nowMs };
}

/** For availability by date, `asOfMs` carries the horizon: required, after now, within a year. */
export function parseAvailabilityByDateQuery(input: AvailabilityQueryInput, nowMs: number): AvailabilityQuery {
  const v = new Violations();
  const scope = checkQuery(v, input);
  const horizon = input.asOfMs;
  v.time('horizon_time', horizon);
  if (horizon !== undefined && horizon > 0 && horizon <= MAX_TIME_MS) {
    if (horizon <= nowMs) v.add('horizon_time', 'must be in the future');
    else if (horizon - nowMs > MAX_HORIZON_MS) v.add('horizon_time', 'must be at most 366 days ahead');
  }
  v.throwIfAny();
  return { item: input.item as ItemKey, scope, segment: input.segment, asOfMs: horizon as number };
}

function checkQuery(v: Violations, input: AvailabilityQueryInput): AvailabilityScope {
  v.item('item', input.item);
  v.segment('segment', input.segment);
  if (input.nodeId !== undefined && input.distributionGroupId !== undefined) {
    v.add('node_id', 'give either node_id or distribution_group_id, not both');
  } else if (input.distributionGroupId !== undefined) {
    v.id('distribution_group_id', input.distributionGroupId);
    return { distributionGroupId: input.distributionGroupId };
  } else {
    v.id('node_id', input.nodeId ?? '');
  }
  return { nodeId: input.nodeId ?? '' };
}
