import { createHash } from 'node:crypto';
import * as pb from '@inventory/contracts';
import {
  overrideKey,
  ThresholdBook,
  Violations,
  type AvailabilityThresholds,
  type ThresholdOverride,
} from '@inventory/domain';
import { segmentName } from './change-stream-filter';

/** Most entries item_ids, node_ids and segments may each have. */
export const MAX_WATCH_FILTER_ENTRIES = 100;
/** Most threshold overrides a watch may set. */
export const MAX_THRESHOLD_OVERRIDES = 1000;

/** A checked WatchAvailability request. */
export interface WatchRequest {
  /** The items watched; undefined for every item. (Arrays, not sets: at most 100, and smaller to keep.) */
  readonly itemIds?: readonly string[];
  /** The nodes watched, as the caller named them; undefined for every node (or the group's). */
  readonly nodeIds?: readonly string[];
  readonly distributionGroupId?: string;
  /** The segments watched, by {@link segmentName}; undefined for every segment and the pool. */
  readonly segments?: readonly string[];
  /** Set in threshold mode. */
  readonly thresholds?: ThresholdBook;
  /** Where a resumed watch continues: the stream position its last message covered. */
  readonly resumeAfter?: number;
  /** Identifies the request (all but its resume token): a token is only good for the request it came from. */
  readonly fingerprint: string;
}

/** Checks a WatchAvailability request; throws INVALID_ARGUMENT naming every bad field. */
export function parseWatchRequest(req: pb.WatchAvailabilityRequest): WatchRequest {
  const v = new Violations();
  const each = <T>(field: string, entries: readonly T[], max: number, check: (field: string, entry: T) => void) => {
    if (entries.length > max) v.add(field, `must have at most ${max} entries`);
    else entries.forEach((entry, i) => check(`${field}[${i}]`, entry));
  };
  each('item_ids', req.itemIds, MAX_WATCH_FILTER_ENTRIES, (field, id) => v.text(field, id, 64, true));
  each('node_ids', req.nodeIds, MAX_WATCH_FILTER_ENTRIES, (field, id) => v.id(field, id));
  each('segments', req.segments, MAX_WATCH_FILTER_ENTRIES, (field, segment) => v.segment(field, segment));
  if (req.distributionGroupId !== '') {
    v.id('distribution_group_id', req.distributionGroupId);
    if (req.nodeIds.length > 0) v.add('node_ids', 'must be empty when distribution_group_id is set');
  }
  if (req.itemIds.length === 0 && req.nodeIds.length === 0 && req.distributionGroupId === '')
    v.add('item_ids', 'is required when neither node_ids nor distribution_group_id is set: name what to watch');
  const mode = req.mode === pb.WatchMode.WATCH_MODE_UNSPECIFIED ? pb.WatchMode.WATCH_MODE_CHANGES : req.mode;
  if (mode !== pb.WatchMode.WATCH_MODE_CHANGES && mode !== pb.WatchMode.WATCH_MODE_THRESHOLDS)
    v.add('mode', 'must be WATCH_MODE_CHANGES or WATCH_MODE_THRESHOLDS');
  const thresholds = mode === pb.WatchMode.WATCH_MODE_THRESHOLDS ? parseThresholds(v, req) : undefined;
  const fingerprint = fingerprintOf({ ...req, mode, resumeToken: '' });
  const resumeAfter = req.resumeToken === '' ? undefined : parseResumeToken(v, req.resumeToken, fingerprint);
  v.throwIfAny();
  const distinct = (ids: readonly string[]) => (ids.length > 0 ? [...new Set(ids)] : undefined);
  return {
    itemIds: distinct(req.itemIds),
    nodeIds: distinct(req.nodeIds),
    distributionGroupId: req.distributionGroupId || undefined,
    segments: distinct(req.segments.map(segmentName)),
    thresholds,
    resumeAfter,
    fingerprint,
  };
}

function parseThresholds(v: Violations, req: pb.WatchAvailabilityRequest): ThresholdBook | undefined {
  const check = (field: string, t: pb.AvailabilityThresholds | undefined): AvailabilityThresholds | undefined => {
    if (!t) {
      v.add(field, 'is required in WATCH_MODE_THRESHOLDS');
      return undefined;
    }
    const before = v.isEmpty;
    v.quantity(`${field}.low_at_most`, t.lowAtMost, 0);
    v.quantity(`${field}.high_at_least`, t.highAtLeast, 0);
    if (t.highAtLeast <= t.lowAtMost) v.add(`${field}.high_at_least`, 'must be above low_at_most');
    return before && v.isEmpty ? { lowAtMost: t.lowAtMost, highAtLeast: t.highAtLeast } : undefined;
  };
  const fallback = check('default_thresholds', req.defaultThresholds);
  const overrides: ThresholdOverride[] = [];
  const seen = new Set<string>();
  each(req.thresholdOverrides, (o, i) => {
    const field = `threshold_overrides[${i}]`;
    v.text(`${field}.item_id`, o.itemId, 64, true);
    if (o.nodeId !== '') v.id(`${field}.node_id`, o.nodeId);
    const key = overrideKey(o.itemId, o.nodeId);
    if (seen.has(key)) v.add(field, 'repeats the item and node of an earlier override');
    seen.add(key);
    const thresholds = check(`${field}.thresholds`, o.thresholds);
    if (thresholds) overrides.push({ itemId: o.itemId, nodeId: o.nodeId, thresholds });
  });
  function each<T>(entries: readonly T[], check: (entry: T, i: number) => void) {
    if (entries.length > MAX_THRESHOLD_OVERRIDES)
      v.add('threshold_overrides', `must have at most ${MAX_THRESHOLD_OVERRIDES} entries`);
    else entries.forEach(check);
  }
  return fallback && new ThresholdBook(fallback, overrides);
}

/**
 * A resume token: the stream position a watch's message covered and the fingerprint of its request,
 * base64url-encoded. Opaque to callers.
 */
export function resumeToken(sequence: number, fingerprint: string): string {
  return Buffer.from(`${sequence}.${fingerprint}`).toString('base64url');
}

function parseResumeToken(v: Violations, token: string, fingerprint: string): number | undefined {
  const [sequence, tokenPrint, ...rest] = Buffer.from(token, 'base64url').toString().split('.');
  const position = Number(sequence);
  if (rest.length > 0 || !/^\d+$/.test(sequence ?? '') || !Number.isSafeInteger(position))
    v.add('resume_token', 'is not a resume token this service gave');
  else if (tokenPrint !== fingerprint)
    v.add('resume_token', 'was given for a different request: watch with the same request as before');
  else return position;
  return undefined;
}

/** A short digest of the request's fields but its resume token. */
function fingerprintOf(req: pb.WatchAvailabilityRequest): string {
  const bytes = pb.WatchAvailabilityRequest.encode(req).finish();
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
}
