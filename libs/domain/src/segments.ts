import { rulesNaming, type AllocationPlan } from './allocation-plans';
import {
  SegmentHoldsStockError,
  SegmentInPlanError,
  SegmentNotDefinedError,
  SegmentRetiredError,
  type SegmentStock,
} from './errors';
import { isUnsegmented, type SegmentKey } from './keys';
import { MAX_DESCRIPTION_LENGTH, MAX_SEGMENT_LENGTH, MAX_SEGMENT_TYPE_LENGTH, Violations } from './validation';

/** A dimension stock is split along, for example CHANNEL. */
export interface SegmentType {
  readonly segmentType: string;
  readonly description: string;
  readonly createMs: number;
}

export const SEGMENT_STATES = ['ACTIVE', 'RETIRED'] as const;

export type SegmentState = (typeof SEGMENT_STATES)[number];

/** A segment of stock within a segment type. Only an ACTIVE segment may be named by new requests. */
export interface Segment {
  readonly segmentType: string;
  readonly segment: string;
  readonly description: string;
  readonly state: SegmentState;
  readonly createMs: number;
  readonly updateMs: number;
  /** `null` while the segment is active. */
  readonly retireMs: number | null;
}

export interface CreateSegmentTypeCommand {
  readonly requestId: string;
  readonly segmentType: string;
  readonly description: string;
}

/** Names one segment: for creating, describing, retiring. */
export interface SegmentCommand {
  readonly requestId: string;
  readonly segmentType: string;
  readonly segment: string;
}

export interface CreateSegmentCommand extends SegmentCommand {
  readonly description: string;
}

export type UpdateSegmentCommand = CreateSegmentCommand;

export type RetireSegmentCommand = SegmentCommand;

export function parseCreateSegmentType(input: CreateSegmentTypeCommand): CreateSegmentTypeCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.id('segment_type.segment_type', input.segmentType, MAX_SEGMENT_TYPE_LENGTH);
  v.text('segment_type.description', input.description, MAX_DESCRIPTION_LENGTH);
  v.throwIfAny();
  return input;
}

export function parseCreateSegment(input: CreateSegmentCommand): CreateSegmentCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  checkSegmentIds(v, input, 'segment.');
  v.text('segment.description', input.description, MAX_DESCRIPTION_LENGTH);
  v.throwIfAny();
  return input;
}

export function parseUpdateSegment(input: UpdateSegmentCommand): UpdateSegmentCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  checkSegmentIds(v, input);
  v.text('description', input.description, MAX_DESCRIPTION_LENGTH);
  v.throwIfAny();
  return input;
}

export function parseRetireSegment(input: RetireSegmentCommand): RetireSegmentCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  checkSegmentIds(v, input);
  v.throwIfAny();
  return input;
}

/** Checks the ids of a segment to look up. */
export function requireSegmentIds(segmentType: string, segment: string): void {
  const v = new Violations();
  checkSegmentIds(v, { segmentType, segment });
  v.throwIfAny();
}

/** Checks a segment type to look up or filter by; empty is allowed when it is only a filter. */
export function requireSegmentTypeId(field: string, segmentType: string, optional = false): void {
  if (optional && segmentType === '') return;
  const v = new Violations();
  v.id(field, segmentType, MAX_SEGMENT_TYPE_LENGTH);
  v.throwIfAny();
}

/** Checks a segment key given as a filter: both fields empty (the unsegmented pool) or both set. */
export function requireSegmentKey(field: string, key: SegmentKey): void {
  const v = new Violations();
  v.segment(field, key);
  v.throwIfAny();
}

function checkSegmentIds(v: Violations, ids: { segmentType: string; segment: string }, prefix = ''): void {
  v.id(`${prefix}segment_type`, ids.segmentType, MAX_SEGMENT_TYPE_LENGTH);
  v.id(`${prefix}segment`, ids.segment, MAX_SEGMENT_LENGTH);
}

/** A new segment: active from `nowMs`. */
export function newSegment(cmd: CreateSegmentCommand, nowMs: number): Segment {
  return {
    segmentType: cmd.segmentType,
    segment: cmd.segment,
    description: cmd.description,
    state: 'ACTIVE',
    createMs: nowMs,
    updateMs: nowMs,
    retireMs: null,
  };
}

/** The segment with a new description. A retired segment may be described too: it changes no stock. */
export function describeSegment(segment: Segment, description: string, nowMs: number): Segment {
  return { ...segment, description, updateMs: nowMs };
}

export function holdsStock(stock: SegmentStock): boolean {
  return stock.supplyRows > 0 || stock.demandRows > 0 || stock.activeHolds > 0;
}

/**
 * Retires a segment, or refuses while it holds stock (which would become invisible to every request).
 * A segment already retired stays as it is: `changed` is false and nothing is to be written.
 */
export function retireSegment(
  segment: Segment,
  stock: SegmentStock,
  plan: AllocationPlan | undefined,
  nowMs: number,
): { readonly segment: Segment; readonly changed: boolean } {
  if (segment.state === 'RETIRED') return { segment, changed: false };
  if (holdsStock(stock)) throw new SegmentHoldsStockError(segment.segmentType, segment.segment, stock);
  const rules = plan ? rulesNaming(plan, segment) : [];
  if (plan && rules.length > 0) throw new SegmentInPlanError(segment.segmentType, segment.segment, plan.version, rules);
  return { segment: { ...segment, state: 'RETIRED', updateMs: nowMs, retireMs: nowMs }, changed: true };
}

/**
 * Whether a request may name `key` in `field`: the unsegmented pool always; any other segment only while it
 * is defined and active. `found` is the stored segment of that key, if any.
 */
export function requireUsableSegment(field: string, key: SegmentKey, found: Segment | undefined): void {
  if (isUnsegmented(key)) return;
  if (!found) throw new SegmentNotDefinedError(field, key.segmentType, key.segment);
  if (found.state !== 'ACTIVE') throw new SegmentRetiredError(field, key.segmentType, key.segment);
}
