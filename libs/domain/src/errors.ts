/**
 * Failures the domain reports to callers. Each class has a stable reason code and typed context; the
 * server maps the category to a gRPC status in one place. Domain code throws nothing else on bad input.
 */

/** How a failure is classified; the transport layer turns it into a status code. */
export type ErrorCategory =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'OUT_OF_RANGE'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE';

export abstract class DomainError extends Error {
  abstract readonly category: ErrorCategory;
  /** Stable UPPER_SNAKE code callers can branch on. */
  abstract readonly reason: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Context for the caller, as strings (it travels in ErrorInfo.metadata). */
  get metadata(): Record<string, string> {
    return {};
  }
}

/** One invalid request field. */
export interface FieldViolation {
  /** Path to the field, for example `lines[3].quantity`. */
  readonly field: string;
  readonly description: string;
}

/** Thrown when a request has one or more invalid fields. Nothing was changed. */
export class InvalidArgumentError extends DomainError {
  readonly category = 'INVALID_ARGUMENT';
  readonly reason = 'INVALID_ARGUMENT';

  constructor(readonly violations: readonly FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; '));
  }

  override get metadata(): Record<string, string> {
    return { field: this.violations[0]?.field ?? '' };
  }
}

/** Thrown when a batch has more lines than a request may carry. */
export class BatchTooLargeError extends DomainError {
  readonly category = 'INVALID_ARGUMENT';
  readonly reason = 'BATCH_TOO_LARGE';

  constructor(
    readonly field: string,
    readonly lines: number,
    readonly maxLines: number,
  ) {
    super(`${field}: ${lines} lines is more than the maximum of ${maxLines} per request`);
  }

  override get metadata(): Record<string, string> {
    return { field: this.field, lines: String(this.lines), max_lines: String(this.maxLines) };
  }
}

/** Thrown when a request names a node that does not exist. */
export class NodeNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'NODE_NOT_FOUND';

  constructor(readonly nodeIds: readonly string[]) {
    super(`node not found: ${nodeIds.join(', ')}`);
  }

  override get metadata(): Record<string, string> {
    return { node_ids: this.nodeIds.join(',') };
  }
}

/** Thrown when a request names a distribution group that does not exist. */
export class DistributionGroupNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'DISTRIBUTION_GROUP_NOT_FOUND';

  constructor(readonly distributionGroupId: string) {
    super(`distribution group not found: ${distributionGroupId}`);
  }

  override get metadata(): Record<string, string> {
    return { distribution_group_id: this.distributionGroupId };
  }
}

/** Thrown when deleting a safety stock rule that does not exist. */
export class SafetyStockNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'SAFETY_STOCK_NOT_FOUND';

  constructor(
    readonly itemId: string,
    readonly nodeId: string,
  ) {
    super(`no safety stock rule for item ${itemId}${nodeId ? ` at node ${nodeId}` : ' at item level'}`);
  }

  override get metadata(): Record<string, string> {
    return { item_id: this.itemId, node_id: this.nodeId };
  }
}

/** Thrown when creating a node or distribution group whose id is taken. */
export class AlreadyExistsError extends DomainError {
  readonly category = 'ALREADY_EXISTS';
  readonly reason: 'NODE_ALREADY_EXISTS' | 'DISTRIBUTION_GROUP_ALREADY_EXISTS';

  constructor(
    readonly kind: 'node' | 'distribution group',
    readonly id: string,
  ) {
    super(`${kind} already exists: ${id}`);
    this.reason = kind === 'node' ? 'NODE_ALREADY_EXISTS' : 'DISTRIBUTION_GROUP_ALREADY_EXISTS';
  }

  override get metadata(): Record<string, string> {
    return { id: this.id };
  }
}

/** Thrown when a request id is reused for a request with different content. */
export class RequestIdReusedError extends DomainError {
  readonly category = 'ALREADY_EXISTS';
  readonly reason = 'REQUEST_ID_REUSED';

  constructor(
    readonly requestId: string,
    readonly firstMethod: string,
  ) {
    super(`request_id ${requestId} was already used for a different ${firstMethod} request`);
  }

  override get metadata(): Record<string, string> {
    return { request_id: this.requestId, first_method: this.firstMethod };
  }
}

/** Thrown when a request names a segment that has not been defined. */
export class SegmentNotDefinedError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'SEGMENT_NOT_DEFINED';

  constructor(
    readonly field: string,
    readonly segmentType: string,
    readonly segment: string,
  ) {
    super(
      `${field}: segment ${segmentType}/${segment} is not defined; define it with SegmentService, or leave both fields empty for unsegmented stock`,
    );
  }

  override get metadata(): Record<string, string> {
    return { field: this.field, segment_type: this.segmentType, segment: this.segment };
  }
}

/** One reservation line that could not be held in full. */
export interface Shortfall {
  readonly lineIndex: number;
  readonly itemId: string;
  /** The node or distribution group the line asked for. */
  readonly location: string;
  readonly requested: number;
  /** What the line could have had: at a node, what was left there after the earlier lines of the request. */
  readonly available: number;
  /** Of `available`, what the segment has of its own (all of it for the unsegmented pool)... */
  readonly own: number;
  /** ...and what it may still borrow from the pool, after its caps and floor (0 for the pool). */
  readonly borrowable: number;
}

/**
 * Thrown when a reservation (or an increase) cannot be held in full. Nothing was held: reservations are all
 * or nothing.
 */
export class InsufficientAvailabilityError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'INSUFFICIENT_AVAILABILITY';

  constructor(readonly shortfalls: readonly Shortfall[]) {
    super(
      `insufficient availability: ${shortfalls
        .map((s) => `lines[${s.lineIndex}] ${s.itemId} at ${s.location} asked ${s.requested}, available ${s.available}`)
        .join('; ')}`,
    );
  }

  override get metadata(): Record<string, string> {
    const metadata: Record<string, string> = { short_lines: this.shortfalls.map((s) => s.lineIndex).join(',') };
    for (const s of this.shortfalls) {
      metadata[`line.${s.lineIndex}.item_id`] = s.itemId;
      metadata[`line.${s.lineIndex}.location`] = s.location;
      metadata[`line.${s.lineIndex}.requested`] = String(s.requested);
      metadata[`line.${s.lineIndex}.available`] = String(s.available);
      metadata[`line.${s.lineIndex}.own`] = String(s.own);
      metadata[`line.${s.lineIndex}.borrowable`] = String(s.borrowable);
    }
    return metadata;
  }
}

/** Thrown when a request names a reservation that does not exist. */
export class ReservationNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'RESERVATION_NOT_FOUND';

  constructor(readonly reservationId: string) {
    super(`reservation not found: ${reservationId}`);
  }

  override get metadata(): Record<string, string> {
    return { reservation_id: this.reservationId };
  }
}

/** Thrown when expiring a reservation whose expiry time has not come yet. */
export class ReservationNotExpiredError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'RESERVATION_NOT_EXPIRED';

  constructor(
    readonly reservationId: string,
    readonly expireMs: number,
  ) {
    super(`reservation ${reservationId} does not expire before ${new Date(expireMs).toISOString()}`);
  }

  override get metadata(): Record<string, string> {
    return { reservation_id: this.reservationId, expire_time: new Date(this.expireMs).toISOString() };
  }
}

/** Thrown when changing a reservation that was released, consumed or has expired. */
export class ReservationNotActiveError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'RESERVATION_NOT_ACTIVE';

  constructor(
    readonly reservationId: string,
    readonly state: string,
  ) {
    super(`reservation ${reservationId} is ${state.toLowerCase()}; only an active reservation can change`);
  }

  override get metadata(): Record<string, string> {
    return { reservation_id: this.reservationId, state: this.state };
  }
}

/** Why the database cannot serve a call. */
export type DatabaseProblem =
  /** The connection broke (killed, reset, closed) or could not be made or taken from the pool in time. */
  | 'CONNECTION_LOST'
  /** The database answers but is not usable: its schema (a table, the database itself) is missing. */
  | 'NOT_USABLE';

/**
 * Thrown when the database cannot serve a call: it is unreachable, a connection broke under the call, or
 * its tables are gone. The caller may retry later; whatever the call did before is not committed, unless
 * the connection broke while committing (then the request id makes a retry safe).
 */
export class DatabaseUnavailableError extends DomainError {
  readonly category = 'UNAVAILABLE';
  readonly reason = 'DATABASE_UNAVAILABLE';

  constructor(
    readonly problem: DatabaseProblem,
    options?: { cause?: unknown },
  ) {
    super('the database is unavailable; retry later', options);
  }

  override get metadata(): Record<string, string> {
    return { problem: this.problem };
  }
}

/** Thrown when a request names a version of the consumption rules that was never made. */
export class ConsumptionRulesVersionNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'CONSUMPTION_RULES_VERSION_NOT_FOUND';

  constructor(readonly version: number) {
    super(`consumption rules version not found: ${version}`);
  }

  override get metadata(): Record<string, string> {
    return { version: String(this.version) };
  }
}

/** Thrown when a request names a segment that was retired: it is refused like one that was never defined. */
export class SegmentRetiredError extends SegmentNotDefinedError {
  constructor(field: string, segmentType: string, segment: string) {
    super(field, segmentType, segment);
    this.message = `${field}: segment ${segmentType}/${segment} is retired; it can no longer be used`;
  }

  override get metadata(): Record<string, string> {
    return { ...super.metadata, state: 'RETIRED' };
  }
}

/** Thrown when a request names a segment type that does not exist. */
export class SegmentTypeNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'SEGMENT_TYPE_NOT_FOUND';

  constructor(readonly segmentType: string) {
    super(`segment type not found: ${segmentType}`);
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType };
  }
}

/** Thrown when a request names a segment that does not exist (SegmentService; stock requests get SegmentNotDefinedError). */
export class SegmentNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'SEGMENT_NOT_FOUND';

  constructor(
    readonly segmentType: string,
    readonly segment: string,
  ) {
    super(`segment not found: ${segmentType}/${segment}`);
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType, segment: this.segment };
  }
}

/** Thrown when creating a segment type whose id is taken. */
export class SegmentTypeAlreadyExistsError extends DomainError {
  readonly category = 'ALREADY_EXISTS';
  readonly reason = 'SEGMENT_TYPE_ALREADY_EXISTS';

  constructor(readonly segmentType: string) {
    super(`segment type already exists: ${segmentType}`);
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType };
  }
}

/** Thrown when creating a segment that exists, active or retired. */
export class SegmentAlreadyExistsError extends DomainError {
  readonly category = 'ALREADY_EXISTS';
  readonly reason = 'SEGMENT_ALREADY_EXISTS';

  constructor(
    readonly segmentType: string,
    readonly segment: string,
    readonly retired: boolean,
  ) {
    super(`segment already exists${retired ? ' (retired)' : ''}: ${segmentType}/${segment}`);
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType, segment: this.segment };
  }
}

/** What a segment still holds: rows and units of supply and demand other than zero, and active holds. */
export interface SegmentStock {
  readonly supplyRows: number;
  readonly supplyUnits: number;
  readonly demandRows: number;
  readonly demandUnits: number;
  /** Reservation holds that are HELD and not past their expiry. */
  readonly activeHolds: number;
  readonly heldUnits: number;
}

/** Thrown when retiring a segment that still holds stock. Nothing was changed. */
export class SegmentHoldsStockError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'SEGMENT_HOLDS_STOCK';

  constructor(
    readonly segmentType: string,
    readonly segment: string,
    readonly stock: SegmentStock,
  ) {
    super(
      `segment ${segmentType}/${segment} still holds stock: ${stock.supplyRows} supply rows (${stock.supplyUnits} units), ` +
        `${stock.demandRows} demand rows (${stock.demandUnits} units), ${stock.activeHolds} active reservation holds ` +
        `(${stock.heldUnits} units); bring them to zero before retiring it`,
    );
  }

  override get metadata(): Record<string, string> {
    const s = this.stock;
    return {
      segment_type: this.segmentType,
      segment: this.segment,
      supply_rows: String(s.supplyRows),
      supply_units: String(s.supplyUnits),
      demand_rows: String(s.demandRows),
      demand_units: String(s.demandUnits),
      active_holds: String(s.activeHolds),
      held_units: String(s.heldUnits),
    };
  }
}

/** Thrown when a request names a segment type that has no plan, or a plan version that was never made. */
export class AllocationPlanNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'ALLOCATION_PLAN_NOT_FOUND';

  constructor(
    readonly segmentType: string,
    readonly version: number,
  ) {
    super(
      version === 0
        ? `segment type ${segmentType} has no allocation plan`
        : `allocation plan not found: ${segmentType} version ${version}`,
    );
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType, version: String(this.version) };
  }
}

/** Thrown when retiring a segment that the allocation plan in force gives a share. */
export class SegmentInPlanError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'SEGMENT_IN_PLAN';

  constructor(
    readonly segmentType: string,
    readonly segment: string,
    readonly planVersion: number,
    readonly ruleIds: readonly string[],
  ) {
    super(
      `segment ${segmentType}/${segment} has a share in rules ${ruleIds.join(', ')} of allocation plan version ${planVersion}; set a plan without it first`,
    );
  }

  override get metadata(): Record<string, string> {
    return {
      segment_type: this.segmentType,
      segment: this.segment,
      plan_version: String(this.planVersion),
      rule_ids: this.ruleIds.join(','),
    };
  }
}

/** Thrown when a rebalance is asked of a segment type whose current plan is disabled. */
export class AllocationPlanDisabledError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'ALLOCATION_PLAN_DISABLED';

  constructor(
    readonly segmentType: string,
    readonly version: number,
  ) {
    super(`the allocation plan of segment type ${segmentType} (version ${version}) is disabled`);
  }

  override get metadata(): Record<string, string> {
    return { segment_type: this.segmentType, version: String(this.version) };
  }
}

/** Thrown when a request names a rebalance run that does not exist. */
export class RebalanceRunNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'REBALANCE_RUN_NOT_FOUND';

  constructor(readonly runId: string) {
    super(`rebalance run not found: ${runId}`);
  }

  override get metadata(): Record<string, string> {
    return { run_id: this.runId };
  }
}

/**
 * Thrown when a change stream reader asks for events that retention already trimmed: the events after
 * `afterSequence` start below `oldestSequence`, the oldest still held.
 */
export class StreamPositionTrimmedError extends DomainError {
  readonly category = 'OUT_OF_RANGE';
  readonly reason = 'STREAM_POSITION_TRIMMED';

  constructor(
    readonly afterSequence: number,
    readonly oldestSequence: number,
  ) {
    super(`the change stream no longer holds the events after ${afterSequence}: the oldest held is ${oldestSequence}`);
  }

  override get metadata(): Record<string, string> {
    return { after_sequence: String(this.afterSequence), oldest_sequence: String(this.oldestSequence) };
  }
}

/**
 * Thrown to a stream that the service ends because it is stopping: the subscriber resumes, on this replica
 * once it is back or on another, after `resumeAfterSequence`, the last position the stream had passed.
 */
export class ServiceStoppingError extends DomainError {
  readonly category = 'UNAVAILABLE';
  readonly reason = 'SERVICE_STOPPING';

  constructor(readonly resumeAfterSequence: number) {
    super(`the service is stopping: subscribe again after sequence ${resumeAfterSequence}`);
  }

  override get metadata(): Record<string, string> {
    return { resume_after_sequence: String(this.resumeAfterSequence) };
  }
}

/**
 * Thrown when a watch would pass a limit on open watches: of its connection (`scope` "connection") or of the
 * server ("server").
 */
export class WatcherLimitReachedError extends DomainError {
  readonly category = 'RESOURCE_EXHAUSTED';
  readonly reason = 'WATCHER_LIMIT_REACHED';

  constructor(
    readonly scope: 'connection' | 'server',
    readonly limit: number,
  ) {
    super(
      scope === 'connection'
        ? `this connection already has ${limit} watches open, the most one connection may have`
        : `the server already has ${limit} watches open, the most it serves`,
    );
  }

  override get metadata(): Record<string, string> {
    return { scope: this.scope, limit: String(this.limit) };
  }
}

/**
 * Thrown to a watch whose caller read too slowly: more than `limit` positions waited to be sent. The caller
 * watches again with `resumeToken` (the last message's) and loses nothing.
 */
export class WatchBufferFullError extends DomainError {
  readonly category = 'RESOURCE_EXHAUSTED';
  readonly reason = 'WATCH_BUFFER_FULL';

  constructor(
    readonly limit: number,
    readonly resumeToken: string,
  ) {
    super(`more than ${limit} changed positions waited for the caller to read them: watch again with the resume token`);
  }

  override get metadata(): Record<string, string> {
    return { limit: String(this.limit), resume_token: this.resumeToken };
  }
}

/** Thrown to a watch that the service ends because it is stopping: watch again with `resumeToken`. */
export class WatchStoppingError extends DomainError {
  readonly category = 'UNAVAILABLE';
  readonly reason = 'SERVICE_STOPPING';

  constructor(readonly resumeToken: string) {
    super('the service is stopping: watch again with the resume token, on this replica once it is back or on another');
  }

  override get metadata(): Record<string, string> {
    return { resume_token: this.resumeToken };
  }
}
