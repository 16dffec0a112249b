import type * as pb from '@inventory/contracts';
import { Violations } from '@inventory/domain';
import { eventTypeOf, type PayloadField } from '../events/change-events';

/** Most entries one filter of a Subscribe request may have. */
export const MAX_FILTER_ENTRIES = 100;

/** What an event is about: the items, nodes and segments its payload names. */
interface EventSubjects {
  readonly itemIds: readonly (string | undefined)[];
  readonly nodeIds: readonly (string | undefined)[];
  readonly segments: readonly (pb.SegmentKey | undefined)[];
}

const NOTHING: EventSubjects = { itemIds: [], nodeIds: [], segments: [] };

type KeyOf = { item?: pb.ItemKey; nodeId?: string; segment?: pb.SegmentKey };
const keySubjects = (key: KeyOf | undefined): EventSubjects => ({
  itemIds: [key?.item?.itemId],
  nodeIds: [key?.nodeId],
  segments: [key?.segment],
});
const reservationSubjects = (payload: { reservation?: pb.Reservation }): EventSubjects => {
  const lines = payload.reservation?.lines ?? [];
  return {
    itemIds: lines.map((l) => l.line?.item?.itemId),
    nodeIds: lines.flatMap((l) => [l.line?.nodeId, ...l.allocations.map((a) => a.nodeId)]),
    segments: lines.map((l) => l.line?.segment),
  };
};

/**
 * The subjects of each payload, written once per payload field: a payload added to the contract does not
 * compile until it says what it is about.
 */
const SUBJECTS: { [F in PayloadField]: (payload: NonNullable<pb.ChangeEvent[F]>) => EventSubjects } = {
  supplyChanged: (p) => keySubjects(p.key),
  supplyIgnored: (p) => keySubjects(p.key),
  demandChanged: (p) => keySubjects(p.key),
  demandIgnored: (p) => keySubjects(p.key),
  reservationCreated: reservationSubjects,
  reservationExtended: reservationSubjects,
  reservationQuantitiesChanged: reservationSubjects,
  reservationReleased: reservationSubjects,
  reservationConsumed: reservationSubjects,
  reservationExpired: reservationSubjects,
  nodeCreated: (p) => ({ ...NOTHING, nodeIds: [p.node?.nodeId] }),
  distributionGroupCreated: () => NOTHING,
  safetyStockSet: (p) => ({ ...NOTHING, itemIds: [p.safetyStock?.item?.itemId], nodeIds: [p.safetyStock?.nodeId] }),
  safetyStockDeleted: (p) => ({ ...NOTHING, itemIds: [p.item?.itemId], nodeIds: [p.nodeId] }),
  positionAvailabilityChanged: (p) => keySubjects(p),
  segmentTypeCreated: () => NOTHING,
  segmentCreated: (p) => ({ ...NOTHING, segments: [p.segment] }),
  segmentUpdated: (p) => ({ ...NOTHING, segments: [p.segment] }),
  segmentRetired: (p) => ({ ...NOTHING, segments: [p.segment] }),
  consumptionRulesChanged: () => NOTHING,
  allocationPlanChanged: () => NOTHING,
};

const PAYLOAD_FIELDS = Object.keys(SUBJECTS) as PayloadField[];
const EVENT_TYPES = new Set(PAYLOAD_FIELDS.map(eventTypeOf));

function subjectsOf(event: pb.ChangeEvent): EventSubjects {
  const field = PAYLOAD_FIELDS.find((f) => event[f] !== undefined);
  if (!field) return NOTHING;
  return (SUBJECTS[field] as (payload: unknown) => EventSubjects)(event[field]);
}

/** A Subscribe request's filters, checked. Empty lists let everything through. */
export interface StreamFilter {
  readonly eventTypes: readonly string[];
  readonly itemIds: ReadonlySet<string>;
  readonly nodeIds: ReadonlySet<string>;
  /** Segment keys as `segment_type/segment` ("/" for the unsegmented pool). */
  readonly segments: ReadonlySet<string>;
}

/** Names a segment key in a filter: `type/segment`, `/` for the unsegmented pool. */
export const segmentName = (key: pb.SegmentKey | undefined) => `${key?.segmentType ?? ''}/${key?.segment ?? ''}`;

/** Checks a Subscribe request's filters; throws INVALID_ARGUMENT naming every bad entry. */
export function parseStreamFilter(req: pb.SubscribeRequest): StreamFilter {
  const v = new Violations();
  const each = <T>(field: string, entries: readonly T[], check: (field: string, entry: T) => void) => {
    if (entries.length > MAX_FILTER_ENTRIES) v.add(field, `must have at most ${MAX_FILTER_ENTRIES} entries`);
    else entries.forEach((entry, i) => check(`${field}[${i}]`, entry));
  };
  each('event_types', req.eventTypes, (field, type) => {
    if (!EVENT_TYPES.has(type)) v.add(field, 'is not a ChangeEvent payload name, for example "supply_changed"');
  });
  each('item_ids', req.itemIds, (field, id) => v.text(field, id, 64, true));
  each('node_ids', req.nodeIds, (field, id) => v.id(field, id));
  each('segments', req.segments, (field, segment) => v.segment(field, segment));
  v.throwIfAny();
  return {
    eventTypes: req.eventTypes,
    itemIds: new Set(req.itemIds),
    nodeIds: new Set(req.nodeIds),
    segments: new Set(req.segments.map(segmentName)),
  };
}

/** Whether an event passes the item, node and segment filters (its type is filtered when it is read). */
export function passesFilter(filter: StreamFilter, event: pb.ChangeEvent): boolean {
  if (filter.itemIds.size === 0 && filter.nodeIds.size === 0 && filter.segments.size === 0) return true;
  const subjects = subjectsOf(event);
  const any = (wanted: ReadonlySet<string>, named: readonly (string | undefined)[]) =>
    wanted.size === 0 || named.some((name) => name !== undefined && wanted.has(name));
  return (
    any(filter.itemIds, subjects.itemIds) &&
    any(filter.nodeIds, subjects.nodeIds) &&
    any(filter.segments, subjects.segments.map(segmentName))
  );
}
