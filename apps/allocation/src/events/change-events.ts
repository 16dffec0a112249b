/**
 * The change stream's events, built from domain objects: one envelope (`ChangeEvent`) per change, with the
 * typed payload the contract (inventory/v1/events.proto) names. Payloads reuse the API's converters, so an
 * event shows a reservation or a key exactly as the API does.
 */
import { randomUUID } from 'node:crypto';
import * as pb from '@inventory/contracts';
import {
  levelOf,
  type DemandKey,
  type DistributionGroup,
  type ItemKey,
  type Node,
  type PositionKey,
  type PositionView,
  type Reservation,
  type SafetyStockRule,
  type Segment,
  type SegmentType,
  type SupplyKey,
} from '@inventory/domain';
import {
  plainAudit,
  type AllocationPlanVersion,
  type ConsumptionRulesVersion,
  type LedgerEntry,
} from '@inventory/store';
import { fromAllocationPlanVersion } from '../grpc/allocation-plans-translate';
import { fromConsumptionRulesVersion } from '../grpc/consumption-rules-translate';
import { fromAllocationRecord, fromSupplyPurpose } from '../grpc/rebalancing-translate';
import { fromReservation } from '../grpc/reservation-translate';
import { fromSegment, fromSegmentType } from '../grpc/segment-translate';
import {
  fromDemandKey,
  fromGroup,
  fromItemKey,
  fromMs,
  fromNode,
  fromSafetyStockLevel,
  fromSupplyKey,
} from '../grpc/translate';

/** What every change of one action shares, whenever it happens. */
export interface ActionContext {
  readonly actionId: string;
  /** The request that caused the change; empty for the service's own work. */
  readonly requestId: string;
  readonly parentActionId?: string;
  /** Shared by actions committed together (a Reserve batch, a rebalance run). */
  readonly relatedActionId?: string;
  /** For the service's own work: the job that did it (the event's actor, audit type SYSTEM). */
  readonly systemActor?: string;
  /** For a caller's request: the actor the request states (audit type USER). */
  readonly actor?: string;
}

/** What every event of one action shares. */
export interface EventContext extends ActionContext {
  /** The transaction's clock: when the change took effect. */
  readonly occurMs: number;
}

/** The payload fields of the envelope's `oneof`. */
export type PayloadField = Exclude<
  keyof pb.ChangeEvent,
  | 'sequence'
  | 'eventId'
  | 'type'
  | 'occurTime'
  | 'commitTime'
  | 'actionId'
  | 'requestId'
  | 'parentActionId'
  | 'relatedActionId'
  | 'auditType'
  | 'actor'
>;

/** The envelope's `type` for a payload field: the field's proto name, for example "supply_changed". */
export function eventTypeOf(field: PayloadField): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function changeEvent<F extends PayloadField>(
  context: EventContext,
  field: F,
  payload: NonNullable<pb.ChangeEvent[F]>,
): pb.ChangeEvent {
  return {
    sequence: 0,
    eventId: randomUUID(),
    type: eventTypeOf(field),
    occurTime: fromMs(context.occurMs),
    commitTime: undefined,
    actionId: context.actionId,
    requestId: context.requestId,
    parentActionId: context.parentActionId ?? '',
    relatedActionId: context.relatedActionId ?? '',
    auditType: context.systemActor === undefined ? pb.AuditType.AUDIT_TYPE_USER : pb.AuditType.AUDIT_TYPE_SYSTEM,
    actor: context.systemActor ?? context.actor ?? '',
    [field]: payload,
  };
}

const TRANSACTION_TYPES = {
  SYNC: pb.TransactionType.TRANSACTION_TYPE_SYNC,
  ADJUST: pb.TransactionType.TRANSACTION_TYPE_ADJUST,
} as const;

function transactionOf(entry: LedgerEntry) {
  return {
    transactionType: TRANSACTION_TYPES[entry.transactionType],
    quantity: entry.quantity,
    sourceTime: fromMs(entry.sourceMs),
    reason: entry.reason,
    quantityBefore: entry.quantityBefore,
    quantityAfter: entry.quantityAfter,
  };
}

/** A supply ledger entry: `supply_changed`, or `supply_ignored` for a line a later sync covers. */
export function supplyEvent(context: EventContext, key: SupplyKey, entry: LedgerEntry): pb.ChangeEvent {
  const applied = entry.outcome === 'APPLIED';
  const payload: pb.SupplyTransaction = {
    key: fromSupplyKey(key),
    ...transactionOf(entry),
    outcome: applied
      ? pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED
      : pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
    purpose: fromSupplyPurpose((entry.audit ?? plainAudit(entry.transactionType)).purpose),
    allocation: entry.audit?.allocation ? fromAllocationRecord(entry.audit.allocation) : undefined,
  };
  return applied ? changeEvent(context, 'supplyChanged', payload) : changeEvent(context, 'supplyIgnored', payload);
}

/** A demand ledger entry: `demand_changed`, or `demand_ignored` for a line a later sync covers. */
export function demandEvent(context: EventContext, key: DemandKey, entry: LedgerEntry): pb.ChangeEvent {
  const applied = entry.outcome === 'APPLIED';
  const payload: pb.DemandTransaction = {
    key: fromDemandKey(key),
    ...transactionOf(entry),
    outcome: applied
      ? pb.DemandLineOutcome.DEMAND_LINE_OUTCOME_APPLIED
      : pb.DemandLineOutcome.DEMAND_LINE_OUTCOME_IGNORED_SUPERSEDED,
  };
  return applied ? changeEvent(context, 'demandChanged', payload) : changeEvent(context, 'demandIgnored', payload);
}

/** What happened to a reservation, named as the domain's lifecycle names its transitions. */
export type ReservationChange =
  | { readonly kind: 'created' | 'changed' | 'released' | 'consumed' | 'expired' }
  | { readonly kind: 'extended'; readonly previousExpireMs: number };

export function reservationEvent(
  context: EventContext,
  change: ReservationChange,
  reservation: Reservation,
): pb.ChangeEvent {
  const r = fromReservation(reservation);
  switch (change.kind) {
    case 'created':
      return changeEvent(context, 'reservationCreated', { reservation: r });
    case 'extended':
      return changeEvent(context, 'reservationExtended', {
        reservation: r,
        previousExpireTime: fromMs(change.previousExpireMs),
      });
    case 'changed':
      return changeEvent(context, 'reservationQuantitiesChanged', { reservation: r });
    case 'released':
      return changeEvent(context, 'reservationReleased', { reservation: r });
    case 'consumed':
      return changeEvent(context, 'reservationConsumed', { reservation: r });
    case 'expired':
      return changeEvent(context, 'reservationExpired', { reservation: r });
  }
}

export function nodeCreatedEvent(context: EventContext, node: Node): pb.ChangeEvent {
  return changeEvent(context, 'nodeCreated', { node: fromNode(node) });
}

export function distributionGroupCreatedEvent(context: EventContext, group: DistributionGroup): pb.ChangeEvent {
  return changeEvent(context, 'distributionGroupCreated', { distributionGroup: fromGroup(group) });
}

export function safetyStockSetEvent(context: EventContext, rule: SafetyStockRule): pb.ChangeEvent {
  const safetyStock = {
    item: fromItemKey(rule.item),
    nodeId: rule.nodeId,
    quantity: rule.quantity,
    level: fromSafetyStockLevel(levelOf(rule)),
  };
  return changeEvent(context, 'safetyStockSet', { safetyStock });
}

export function safetyStockDeletedEvent(context: EventContext, item: ItemKey, nodeId: string): pb.ChangeEvent {
  return changeEvent(context, 'safetyStockDeleted', { item: fromItemKey(item), nodeId });
}

/** A position's totals after a change, with its figures by the domain's rules (borrowing included). */
export function positionEvent(
  context: EventContext,
  key: PositionKey,
  view: PositionView,
  rulesVersion: number,
): pb.ChangeEvent {
  return changeEvent(context, 'positionAvailabilityChanged', positionFigures(key, view, rulesVersion));
}

/** A position's totals and figures, as events and watches give them. */
export function positionFigures(
  key: PositionKey,
  { counts, safetyStock, figures }: PositionView,
  rulesVersion: number,
): pb.PositionAvailabilityChanged {
  return {
    item: fromItemKey(key.item),
    nodeId: key.nodeId,
    segment: { segmentType: key.segment.segmentType, segment: key.segment.segment },
    supplyQuantity: counts.supply,
    demandQuantity: counts.demand,
    reservedQuantity: counts.reserved,
    safetyStockQuantity: safetyStock,
    available: figures.available,
    shortage: figures.shortage,
    ownAvailable: figures.ownAvailable,
    borrowable: figures.borrowable,
    borrowed: figures.borrowed,
    lent: figures.lent,
    consumptionRulesVersion: rulesVersion,
  };
}

/** A new version of the consumption rules is in force. */
export function consumptionRulesChangedEvent(context: EventContext, version: ConsumptionRulesVersion): pb.ChangeEvent {
  return changeEvent(context, 'consumptionRulesChanged', { consumptionRules: fromConsumptionRulesVersion(version) });
}

export function segmentTypeCreatedEvent(context: EventContext, type: SegmentType): pb.ChangeEvent {
  return changeEvent(context, 'segmentTypeCreated', { segmentType: fromSegmentType(type) });
}

export function segmentCreatedEvent(context: EventContext, segment: Segment): pb.ChangeEvent {
  return changeEvent(context, 'segmentCreated', { segment: fromSegment(segment) });
}

export function segmentUpdatedEvent(
  context: EventContext,
  segment: Segment,
  previousDescription: string,
): pb.ChangeEvent {
  return changeEvent(context, 'segmentUpdated', { segment: fromSegment(segment), previousDescription });
}

export function segmentRetiredEvent(context: EventContext, segment: Segment): pb.ChangeEvent {
  return changeEvent(context, 'segmentRetired', { segment: fromSegment(segment) });
}

/** A new version of a segment type's allocation plan was set. */
export function allocationPlanChangedEvent(context: EventContext, version: AllocationPlanVersion): pb.ChangeEvent {
  return changeEvent(context, 'allocationPlanChanged', { plan: fromAllocationPlanVersion(version) });
}
