import { DEFAULT_PAGE_SIZE, MAX_ID_LENGTH, MAX_PAGE_SIZE, Violations } from './validation';
import type { ItemKey, SegmentKey } from './keys';
import { supplyKeyId, type SupplyKey, type SupplyType } from './supply';
import type { SupplyOutcome } from './supply-transactions';
import type { SupplyPurpose } from './rebalancing';

/** What a supply audit record says happened: a supply purpose, or a segment's loan from the pool moving. */
export type AuditPurpose = SupplyPurpose | 'SEGMENT_CONSUMPTION';

/**
 * The audit app's model: supply audit records, one per supply_changed or supply_ignored event of the change
 * stream, and the queries over them (audit.v1.AuditService).
 */

/** Whether a caller's request or the service itself made a change. */
export type AuditType = 'USER' | 'SYSTEM';

/** The filters of a supply audit listing; each one unset matches everything. */
export interface SupplyAuditFilter {
  readonly itemId?: string;
  readonly nodeId?: string;
  readonly segment?: SegmentKey;
  /** occur_time at or after, in epoch ms. */
  readonly startMs?: number;
  /** occur_time before, in epoch ms. */
  readonly endMs?: number;
  /** Empty for every purpose. */
  readonly purposes: readonly AuditPurpose[];
  readonly actionId?: string;
  readonly includeSystem: boolean;
  readonly includeIgnored: boolean;
}

/** The positions whose summed quantity a stock history follows. */
export interface StockHistoryFilter {
  readonly item: ItemKey;
  readonly nodeId: string;
  /** Unset for every segment and the pool. */
  readonly segment?: SegmentKey;
  /** Unset for every type but PLAN. */
  readonly supplyType?: SupplyType;
  readonly startMs?: number;
  readonly endMs?: number;
}

export const MAX_AUDIT_PURPOSES = 10;
/** Records of children and related actions GetAuditAction returns, each. */
export const MAX_ACTION_RECORDS = 1000;

/**
 * Checks a ListSupplyAudit request's filters (a time the caller sent that is not a time is NaN) and page
 * size; returns the page size to use.
 */
export function checkSupplyAuditQuery(filter: SupplyAuditFilter, pageSize: number): number {
  const v = new Violations();
  if (filter.itemId !== undefined) v.text('item_id', filter.itemId, MAX_ID_LENGTH);
  if (filter.nodeId !== undefined) v.id('node_id', filter.nodeId);
  if (filter.segment) v.segment('segment', filter.segment);
  checkTimeRange(v, filter.startMs, filter.endMs);
  if (filter.purposes.length > MAX_AUDIT_PURPOSES) v.add('purposes', `must have at most ${MAX_AUDIT_PURPOSES} entries`);
  if (filter.actionId !== undefined) v.text('action_id', filter.actionId, MAX_ID_LENGTH * 2);
  checkPageSize(v, pageSize);
  v.throwIfAny();
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
}

/** Checks a GetStockHistory request; returns the page size to use. */
export function checkStockHistoryQuery(filter: Partial<StockHistoryFilter>, pageSize: number): number {
  const v = new Violations();
  v.item('item', filter.item);
  v.id('node_id', filter.nodeId ?? '');
  if (filter.segment) v.segment('segment', filter.segment);
  checkTimeRange(v, filter.startMs, filter.endMs);
  checkPageSize(v, pageSize);
  v.throwIfAny();
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
}

/** Which action GetAuditAction asks for: by its id, or by the request that made it. */
export type ActionRef = { readonly actionId: string } | { readonly requestId: string };

/** Checks GetAuditAction's request: exactly one of action_id and request_id. */
export function checkActionRef(actionId: string, requestId: string): ActionRef {
  const v = new Violations();
  if ((actionId === '') === (requestId === '')) v.add('action_id', 'set exactly one of action_id and request_id');
  else if (actionId !== '') v.text('action_id', actionId, MAX_ID_LENGTH * 2);
  else v.requestId('request_id', requestId);
  v.throwIfAny();
  return actionId !== '' ? { actionId } : { requestId };
}

function checkTimeRange(v: Violations, startMs: number | undefined, endMs: number | undefined): void {
  if (startMs !== undefined) v.time('start_time', startMs);
  if (endMs !== undefined) v.time('end_time', endMs);
  if (startMs !== undefined && endMs !== undefined && !(endMs > startMs)) v.add('end_time', 'must be after start_time');
}

function checkPageSize(v: Violations, pageSize: number): void {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE)
    v.add('page_size', `must be from 0 to ${MAX_PAGE_SIZE}`);
}

/** What every audited event says of itself: its position, its action, who made it and when. */
export interface AuditEnvelope {
  /** The change stream position of the event: unique, and the records' order. */
  readonly sequence: number;
  readonly eventId: string;
  readonly actionId: string;
  readonly parentActionId: string;
  readonly relatedActionId: string;
  readonly requestId: string;
  readonly auditType: AuditType;
  readonly actor: string;
  readonly occurMs: number;
  readonly commitMs: number;
  readonly receiveMs: number;
}

/** One supply line the allocation app applied or ignored, as its change stream announced it. */
export interface SupplyAuditRecord extends AuditEnvelope {
  readonly purpose: AuditPurpose;
  readonly key: SupplyKey;
  readonly transactionType: 'SYNC' | 'ADJUST';
  /** The line's quantity: absolute for a sync, the delta for an adjust. */
  readonly quantity: number;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
  readonly outcome: SupplyOutcome;
  readonly sourceMs: number;
  readonly reason: string;
  /** The allocation behind a move, kept as the stream encoded it (opaque here). */
  readonly allocation: Uint8Array | null;
}

/** The summed quantity of the followed positions before and after one change. */
export interface StockHistoryPoint {
  readonly record: SupplyAuditRecord;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
}

/**
 * Walks records in stream order and sums the followed positions' quantities around each change. `known`
 * holds each position's quantity before the first record (from earlier records); a position seen for the
 * first time starts at its record's quantity_before. A record that left its position as it was makes no
 * point, but still sets the position's quantity.
 */
export function stockHistoryPoints(
  records: readonly SupplyAuditRecord[],
  known: ReadonlyMap<string, number>,
): StockHistoryPoint[] {
  const quantities = new Map(known);
  let total = [...quantities.values()].reduce((sum, q) => sum + q, 0);
  const points: StockHistoryPoint[] = [];
  for (const record of records) {
    const id = supplyKeyId(record.key);
    const before = quantities.get(id) ?? record.quantityBefore;
    if (!quantities.has(id)) total += before;
    quantities.set(id, record.quantityAfter);
    const after = total - before + record.quantityAfter;
    if (after !== total) points.push({ record, quantityBefore: total, quantityAfter: after });
    total = after;
  }
  return points;
}

/** A segment's loan from the unsegmented pool, as a position_availability_changed event announced it. */
export interface LoanObservation extends AuditEnvelope {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  /** The loan after the change. */
  readonly borrowed: number;
}

/** Names the loan of a segment position. */
export function loanKeyId(o: Pick<LoanObservation, 'item' | 'nodeId' | 'segment'>): string {
  return JSON.stringify([
    'loan',
    o.item.itemId,
    o.item.unitOfMeasure,
    o.item.productClass,
    o.nodeId,
    o.segment.segmentType,
    o.segment.segment,
  ]);
}

/**
 * The SEGMENT_CONSUMPTION records of loans observed in stream order: one for each observation whose loan
 * differs from the last known (`known`, keyed by loanKeyId, 0 when unknown), which it then updates. The
 * record's key is the segment's ONHAND position; its quantities are the loan before and after.
 */
export function loanRecords(observations: readonly LoanObservation[], known: Map<string, number>): SupplyAuditRecord[] {
  const records: SupplyAuditRecord[] = [];
  for (const o of observations) {
    const id = loanKeyId(o);
    const before = known.get(id) ?? 0;
    known.set(id, o.borrowed);
    if (before === o.borrowed) continue;
    const { item, nodeId, segment, borrowed, ...envelope } = o;
    records.push({
      ...envelope,
      purpose: 'SEGMENT_CONSUMPTION',
      key: { item, nodeId, segment, supplyType: 'ONHAND', etaMs: null },
      transactionType: 'ADJUST',
      quantity: borrowed - before,
      quantityBefore: before,
      quantityAfter: borrowed,
      outcome: 'APPLIED',
      sourceMs: o.occurMs,
      reason: borrowed > before ? 'LOAN_TAKEN' : 'LOAN_REPAID',
      allocation: null,
    });
  }
  return records;
}
