import * as pb from '@inventory/contracts';
import {
  type AuditEnvelope,
  type AuditType,
  type ItemKey,
  type SupplyAuditRecord,
  type SupplyKey,
  type SupplyOutcome,
  type AuditPurpose,
  type LoanObservation,
  type SupplyType,
} from '@inventory/domain';

/**
 * Proto <-> domain for the audit app: the change stream's supply events become audit records, and records
 * become the AuditService's messages. Domain enums are the proto enum names without their prefix.
 */

type ProtoEnum = Record<string, string | number>;

/** The domain name of a proto enum value, or undefined for UNSPECIFIED and values this build does not know. */
function nameOf<T extends string>(enumObject: ProtoEnum, prefix: string, value: number): T | undefined {
  const name = enumObject[value];
  if (typeof name !== 'string' || name.endsWith('_UNSPECIFIED') || !name.startsWith(prefix)) return undefined;
  return name.slice(prefix.length) as T;
}

function valueOf(enumObject: ProtoEnum, prefix: string, name: string): number {
  return enumObject[`${prefix}${name}`] as number;
}

export const purposeOf = (value: pb.SupplyPurpose) => nameOf<AuditPurpose>(pb.SupplyPurpose, 'SUPPLY_PURPOSE_', value);
export const toPurpose = (name: AuditPurpose): pb.SupplyPurpose => valueOf(pb.SupplyPurpose, 'SUPPLY_PURPOSE_', name);
export const supplyTypeOf = (value: pb.SupplyType) => nameOf<SupplyType>(pb.SupplyType, 'SUPPLY_TYPE_', value);
export const toSupplyType = (name: SupplyType): pb.SupplyType => valueOf(pb.SupplyType, 'SUPPLY_TYPE_', name);
export const toAuditType = (name: AuditType): pb.AuditType => valueOf(pb.AuditType, 'AUDIT_TYPE_', name);
const toOutcome = (name: SupplyOutcome): pb.SupplyLineOutcome =>
  valueOf(pb.SupplyLineOutcome, 'SUPPLY_LINE_OUTCOME_', name);
const toTransactionType = (name: 'SYNC' | 'ADJUST'): pb.TransactionType =>
  valueOf(pb.TransactionType, 'TRANSACTION_TYPE_', name);

/** An item key as sent, its fields empty where it is unset. */
export function itemOf(item: pb.ItemKey | undefined): ItemKey {
  return {
    itemId: item?.itemId ?? '',
    unitOfMeasure: item?.unitOfMeasure ?? '',
    productClass: item?.productClass ?? '',
  };
}

/** Why an event could not become a record: a field this build cannot read. */
export class UnreadableEventError extends Error {}

/**
 * The audit record of a supply_changed or supply_ignored event; undefined for any other event. Throws
 * UnreadableEventError when the event names a value this build does not know (an allocation app newer than
 * the audit app): storing a guess would be a wrong record.
 */
export function auditRecordOf(event: pb.ChangeEvent, receiveMs: number): SupplyAuditRecord | undefined {
  const line = event.supplyChanged ?? event.supplyIgnored;
  if (!line) return undefined;
  const known = knownIn(event);
  const key = line.key;
  return {
    ...envelopeOf(event, receiveMs),
    purpose: known(purposeOf(line.purpose), 'purpose'),
    key: {
      item: itemOf(key?.item),
      nodeId: key?.nodeId ?? '',
      segment: { segmentType: key?.segment?.segmentType ?? '', segment: key?.segment?.segment ?? '' },
      supplyType: known(supplyTypeOf(key?.supplyType ?? 0), 'key.supply_type'),
      etaMs: key?.etaTime ? key.etaTime.getTime() : null,
    },
    transactionType: known(
      nameOf<'SYNC' | 'ADJUST'>(pb.TransactionType, 'TRANSACTION_TYPE_', line.transactionType),
      'transaction_type',
    ),
    quantity: line.quantity,
    quantityBefore: line.quantityBefore,
    quantityAfter: line.quantityAfter,
    outcome: known(nameOf<SupplyOutcome>(pb.SupplyLineOutcome, 'SUPPLY_LINE_OUTCOME_', line.outcome), 'outcome'),
    sourceMs: line.sourceTime?.getTime() ?? 0,
    reason: line.reason,
    allocation: line.allocation ? pb.SupplyAllocationRecord.encode(line.allocation).finish() : null,
  };
}

/**
 * The loan of the segment a position_availability_changed event announces; undefined for any other event,
 * and for the pool's position (its `lent` is the sum of the segments' loans).
 */
export function loanObservationOf(event: pb.ChangeEvent, receiveMs: number): LoanObservation | undefined {
  const position = event.positionAvailabilityChanged;
  if (!position?.segment || (position.segment.segmentType === '' && position.segment.segment === '')) return undefined;
  return {
    ...envelopeOf(event, receiveMs),
    item: itemOf(position.item),
    nodeId: position.nodeId,
    segment: { segmentType: position.segment.segmentType, segment: position.segment.segment },
    borrowed: position.borrowed,
  };
}

/** What every audited event says of itself. */
function envelopeOf(event: pb.ChangeEvent, receiveMs: number): AuditEnvelope {
  return {
    sequence: event.sequence,
    eventId: event.eventId,
    actionId: event.actionId,
    parentActionId: event.parentActionId,
    relatedActionId: event.relatedActionId,
    requestId: event.requestId,
    auditType: knownIn(event)(nameOf<AuditType>(pb.AuditType, 'AUDIT_TYPE_', event.auditType), 'audit_type'),
    actor: event.actor,
    occurMs: event.occurTime?.getTime() ?? 0,
    commitMs: event.commitTime?.getTime() ?? 0,
    receiveMs,
  };
}

/** A value read from `event`; UnreadableEventError when this build does not know it. */
function knownIn(event: pb.ChangeEvent) {
  return <T>(value: T | undefined, field: string): T => {
    if (value === undefined)
      throw new UnreadableEventError(
        `event ${event.sequence} (${event.type}): ${field} is not a value this build knows`,
      );
    return value;
  };
}

export function toSupplyKey(key: SupplyKey): pb.SupplyKey {
  return {
    item: { ...key.item },
    nodeId: key.nodeId,
    segment: { ...key.segment },
    supplyType: toSupplyType(key.supplyType),
    etaTime: key.etaMs === null ? undefined : new Date(key.etaMs),
  };
}

export function toAuditRecord(r: SupplyAuditRecord): pb.auditV1.SupplyAuditRecord {
  return {
    sequence: r.sequence,
    eventId: r.eventId,
    actionId: r.actionId,
    parentActionId: r.parentActionId,
    relatedActionId: r.relatedActionId,
    requestId: r.requestId,
    purpose: toPurpose(r.purpose),
    auditType: toAuditType(r.auditType),
    actor: r.actor,
    key: toSupplyKey(r.key),
    transactionType: toTransactionType(r.transactionType),
    quantity: r.quantity,
    quantityBefore: r.quantityBefore,
    quantityAfter: r.quantityAfter,
    quantityChange: r.quantityAfter - r.quantityBefore,
    sourceTime: new Date(r.sourceMs),
    occurTime: new Date(r.occurMs),
    receiveTime: new Date(r.receiveMs),
    reason: r.reason,
    allocation: r.allocation ? pb.SupplyAllocationRecord.decode(r.allocation) : undefined,
    outcome: toOutcome(r.outcome),
  };
}
