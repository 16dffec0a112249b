import { BatchTooLargeError, InvalidArgumentError, type FieldViolation } from './errors';
import type { ItemKey, SegmentKey } from './keys';
import { DEMAND_TYPES, type DemandType } from './demand';
import { requiresEta } from './counting';
import { SUPPLY_TYPES, type SupplyType } from './supply';

/** A supply key as a caller sent it, before it is checked. */
export interface SupplyKeyInput {
  readonly item: ItemKey | undefined;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  /** `undefined` when the caller sent no type or one this service does not know. */
  readonly supplyType: SupplyType | undefined;
  /** `undefined` when no ETA was sent. */
  readonly etaMs: number | undefined;
}

/** A demand key as a caller sent it, before it is checked. */
export interface DemandKeyInput {
  readonly item: ItemKey | undefined;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  /** `undefined` when the caller sent no type or one this service does not know. */
  readonly demandType: DemandType | undefined;
  readonly orderReference: string;
}

/** How far ahead of this server's clock a source time may be. */
export interface SourceTimeLimit {
  readonly nowMs: number;
  readonly maxSkewMs: number;
}

/** Most lines one sync or adjust request may carry. */
export const MAX_LINES_PER_REQUEST = 1000;
export const MAX_REQUEST_ID_LENGTH = 128;
export const MAX_ID_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 255;
export const MAX_SEGMENT_TYPE_LENGTH = 32;
export const MAX_SEGMENT_LENGTH = 64;
/** Quantities stay exact as JavaScript numbers and as MySQL BIGINT. */
export const MAX_QUANTITY = 1_000_000_000_000;
/** 9999-12-31T23:59:59.999Z, the end of the protobuf Timestamp range. */
export const MAX_TIME_MS = 253_402_300_799_999;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.\-]*$/;
/** Item ids, units and classes come from foreign catalogues: anything printable, no control characters. */
const TEXT_PATTERN = /^[^\p{Cc}]*$/u;

/**
 * Collects every problem of a request before failing, so a caller fixes them in one round trip.
 * Call {@link Violations.throwIfAny} once checking is done.
 */
export class Violations {
  private readonly found: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.found.push({ field, description });
  }

  get isEmpty(): boolean {
    return this.found.length === 0;
  }

  throwIfAny(): void {
    if (this.found.length > 0) throw new InvalidArgumentError(this.found);
  }

  requestId(field: string, value: string): void {
    if (value === '') this.add(field, 'is required');
    else if (value.length > MAX_REQUEST_ID_LENGTH)
      this.add(field, `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  }

  /** Node, distribution group and segment ids: a restricted alphabet, because operators type them. */
  id(field: string, value: string, maxLength = MAX_ID_LENGTH): void {
    if (value === '') this.add(field, 'is required');
    else if (value.length > maxLength) this.add(field, `must be at most ${maxLength} characters`);
    else if (!ID_PATTERN.test(value)) {
      this.add(field, "may contain only letters, digits, '_', '-' and '.', and must start with a letter or digit");
    }
  }

  text(field: string, value: string, maxLength: number, required = false): void {
    if (required && value === '') this.add(field, 'is required');
    else if (value.length > maxLength) this.add(field, `must be at most ${maxLength} characters`);
    else if (!TEXT_PATTERN.test(value)) this.add(field, 'must not contain control characters');
  }

  item(field: string, item: ItemKey | undefined): void {
    if (!item) return this.add(field, 'is required');
    this.text(`${field}.item_id`, item.itemId, MAX_ID_LENGTH, true);
    this.text(`${field}.unit_of_measure`, item.unitOfMeasure, 16);
    this.text(`${field}.product_class`, item.productClass, 32);
  }

  /** A whole number in [min, MAX_QUANTITY]. */
  quantity(field: string, value: number, min: number): void {
    if (!Number.isSafeInteger(value)) this.add(field, 'must be a whole number');
    else if (value < min) this.add(field, min === 0 ? 'must not be negative' : `must be at least ${min}`);
    else if (Math.abs(value) > MAX_QUANTITY) this.add(field, `must be at most ${MAX_QUANTITY} in size`);
  }

  delta(field: string, value: number): void {
    if (!Number.isSafeInteger(value)) this.add(field, 'must be a whole number');
    else if (value === 0) this.add(field, 'must not be zero');
    else if (Math.abs(value) > MAX_QUANTITY) this.add(field, `must be at most ${MAX_QUANTITY} in size`);
  }

  /** A timestamp in epoch ms: `undefined` when missing, NaN when the caller sent one that is not a time. */
  time(field: string, value: number | undefined): void {
    if (value === undefined) this.add(field, 'is required');
    else if (!(value > 0 && value <= MAX_TIME_MS)) this.add(field, 'must be a valid time between 1970 and 9999');
  }

  /**
   * When a source system says a change happened: a valid time, and not further ahead of this server's clock
   * than the allowed skew. A time far in the future would make every later change of that position look
   * older than it, so each would be ignored as superseded.
   */
  sourceTime(field: string, value: number | undefined, limit: SourceTimeLimit): void {
    const before = this.found.length;
    this.time(field, value);
    if (this.found.length === before && (value as number) > limit.nowMs + limit.maxSkewMs) {
      this.add(
        field,
        `must not be more than ${limit.maxSkewMs / 1000} seconds ahead of the server's clock (${new Date(limit.nowMs).toISOString()})`,
      );
    }
  }

  supplyKey(field: string, key: SupplyKeyInput | undefined): void {
    if (!key) return this.add(field, 'is required');
    this.item(`${field}.item`, key.item);
    this.id(`${field}.node_id`, key.nodeId);
    this.segment(`${field}.segment`, key.segment);
    const type = key.supplyType;
    if (type === undefined) {
      this.add(`${field}.supply_type`, `must be one of ${SUPPLY_TYPES.join(', ')}`);
    } else if (requiresEta(type) && key.etaMs === undefined) {
      this.add(`${field}.eta_time`, `is required for ${type} supply`);
    } else if (!requiresEta(type) && key.etaMs !== undefined) {
      this.add(`${field}.eta_time`, 'must be unset for ONHAND supply');
    }
    if (key.etaMs !== undefined) this.time(`${field}.eta_time`, key.etaMs);
  }

  demandKey(field: string, key: DemandKeyInput | undefined): void {
    if (!key) return this.add(field, 'is required');
    this.item(`${field}.item`, key.item);
    this.id(`${field}.node_id`, key.nodeId);
    this.segment(`${field}.segment`, key.segment);
    if (key.demandType === undefined) this.add(`${field}.demand_type`, `must be one of ${DEMAND_TYPES.join(', ')}`);
    this.text(`${field}.order_reference`, key.orderReference, MAX_REQUEST_ID_LENGTH);
  }

  /** A segment key: both fields empty (the unsegmented pool), or both set to ids a segment could have. */
  segment(field: string, segment: SegmentKey): void {
    if (segment.segmentType === '' && segment.segment === '') return;
    if (segment.segmentType === '') {
      this.add(`${field}.segment_type`, 'is required when segment is set; leave both empty for unsegmented stock');
    } else this.id(`${field}.segment_type`, segment.segmentType, MAX_SEGMENT_TYPE_LENGTH);
    if (segment.segment === '') {
      this.add(`${field}.segment`, 'is required when segment_type is set; leave both empty for unsegmented stock');
    } else this.id(`${field}.segment`, segment.segment, MAX_SEGMENT_LENGTH);
  }

  lineCount(field: string, count: number): void {
    if (count === 0) this.add(field, 'must have at least one line');
    else if (count > MAX_LINES_PER_REQUEST) throw new BatchTooLargeError(field, count, MAX_LINES_PER_REQUEST);
  }
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** The page size to use: 0 means the default; above the maximum is clamped, as AIP-158 suggests. */
export function parsePageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) {
    throw new InvalidArgumentError([{ field: 'page_size', description: 'must not be negative' }]);
  }
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

/** Checks the id of a thing to look up. */
export function requireId(field: string, id: string): void {
  const v = new Violations();
  v.id(field, id);
  v.throwIfAny();
}
