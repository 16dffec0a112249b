import { demandCounts } from './counting';
import type { DemandType } from './demand';
import type { ItemKey, SegmentKey } from './keys';
import type { ReservationLine } from './reservation';
import { Violations, MAX_TIME_MS } from './validation';

/** A reservation line as a caller sent it. */
export interface ReservationLineInput {
  readonly item: ItemKey | undefined;
  readonly nodeId: string | undefined;
  readonly distributionGroupId: string | undefined;
  readonly segment: SegmentKey;
  readonly quantity: number;
  readonly allowSplit: boolean;
}

export interface ReserveInput {
  readonly reservationId: string;
  readonly lines: readonly ReservationLineInput[];
  /** `undefined` for the default time to live. */
  readonly expireMs: number | undefined;
}

export interface ReserveCommand {
  readonly reservationId: string;
  readonly lines: readonly ReservationLine[];
  readonly expireMs: number;
}

/** Checks a reservation as sent; the expiry defaults to now plus `defaultTtlMs`. */
export function parseReserve(input: ReserveInput, nowMs: number, defaultTtlMs: number): ReserveCommand {
  const v = new Violations();
  v.requestId('reservation_id', input.reservationId);
  v.lineCount('lines', input.lines.length);
  input.lines.forEach((line, i) => {
    const field = `lines[${i}]`;
    v.item(`${field}.item`, line.item);
    if (line.nodeId !== undefined) v.id(`${field}.node_id`, line.nodeId);
    else if (line.distributionGroupId !== undefined) v.id(`${field}.distribution_group_id`, line.distributionGroupId);
    else v.add(`${field}.location`, 'one of node_id and distribution_group_id is required');
    if (line.nodeId !== undefined && line.allowSplit)
      v.add(`${field}.allow_split`, 'applies only to distribution-group lines');
    v.segment(`${field}.segment`, line.segment);
    v.quantity(`${field}.quantity`, line.quantity, 1);
  });
  expiry(v, 'expire_time', input.expireMs, nowMs);
  v.throwIfAny();
  return {
    reservationId: input.reservationId,
    lines: input.lines.map((l) => ({
      item: l.item as ItemKey,
      location:
        l.nodeId !== undefined ? { nodeId: l.nodeId } : { distributionGroupId: l.distributionGroupId as string },
      segment: l.segment,
      quantity: l.quantity,
      allowSplit: l.allowSplit,
    })),
    expireMs: input.expireMs ?? nowMs + defaultTtlMs,
  };
}

function expiry(v: Violations, field: string, expireMs: number | undefined, nowMs: number): void {
  if (expireMs === undefined) return;
  if (!(expireMs > 0 && expireMs <= MAX_TIME_MS)) v.add(field, 'must be a valid time between 1970 and 9999');
  else if (expireMs <= nowMs) v.add(field, 'must be in the future');
}

/** A change to one reservation, identified by its request id. */
export interface ReservationChangeInput {
  readonly requestId: string;
  readonly reservationId: string;
}

function checkChange(v: Violations, input: ReservationChangeInput): void {
  v.requestId('request_id', input.requestId);
  v.requestId('reservation_id', input.reservationId);
}

/** A new expiry for a reservation. */
export interface ExtendCommand {
  readonly expireMs: number;
}

export function parseExtend(
  input: ReservationChangeInput & { expireMs: number | undefined },
  nowMs: number,
): ExtendCommand {
  const v = new Violations();
  checkChange(v, input);
  if (input.expireMs === undefined) v.add('expire_time', 'is required');
  expiry(v, 'expire_time', input.expireMs, nowMs);
  v.throwIfAny();
  return { expireMs: input.expireMs as number };
}

export function parseRelease(input: ReservationChangeInput): void {
  const v = new Violations();
  checkChange(v, input);
  v.throwIfAny();
}

export interface LineQuantityInput {
  readonly lineIndex: number;
  readonly quantity: number;
}

/**
 * Checks per-line quantities: each line index at most once and within the reservation (checked again
 * against the stored reservation, which the caller does once it is loaded).
 */
function lineQuantities(v: Violations, field: string, lines: readonly LineQuantityInput[], min: number): void {
  const seen = new Set<number>();
  v.lineCount(field, lines.length);
  lines.forEach((l, i) => {
    if (!Number.isInteger(l.lineIndex) || l.lineIndex < 0) v.add(`${field}[${i}].line_index`, 'must not be negative');
    else if (seen.has(l.lineIndex)) v.add(`${field}[${i}].line_index`, 'names a line already listed');
    seen.add(l.lineIndex);
    v.quantity(`${field}[${i}].quantity`, l.quantity, min);
  });
}

/** New quantities for some lines of a reservation (line indexes are checked against it by the change). */
export interface ChangeQuantitiesCommand {
  readonly lines: readonly LineQuantityInput[];
}

export function parseChangeQuantities(
  input: ReservationChangeInput & { lines: readonly LineQuantityInput[] },
): ChangeQuantitiesCommand {
  const v = new Violations();
  checkChange(v, input);
  lineQuantities(v, 'lines', input.lines, 0);
  v.throwIfAny();
  return { lines: input.lines };
}

export interface ConsumeInput extends ReservationChangeInput {
  readonly orderReference: string;
  readonly lines: readonly LineQuantityInput[];
  /** `undefined` when unspecified (ALLOCATED) or unknown. */
  readonly demandType: DemandType | undefined | 'UNKNOWN';
}

/** Held units to turn into demand for an order: the lines named, or every line whole when none is. */
export interface ConsumeCommand {
  readonly lines: readonly LineQuantityInput[];
  readonly demandType: DemandType;
  readonly orderReference: string;
}

export function parseConsume(input: ConsumeInput): ConsumeCommand {
  const v = new Violations();
  checkChange(v, input);
  v.text('order_reference', input.orderReference, 128, true);
  if (input.lines.length > 0) lineQuantities(v, 'lines', input.lines, 1);
  if (input.demandType === 'UNKNOWN' || (input.demandType !== undefined && !demandCounts(input.demandType)))
    v.add('demand_type', 'must be a counted demand type (not PLAN)');
  v.throwIfAny();
  return {
    lines: input.lines,
    demandType: (input.demandType as DemandType | undefined) ?? 'ALLOCATED',
    orderReference: input.orderReference,
  };
}
