/** Proto <-> domain translation for reservations. No decisions are made here. */
import * as pb from '@inventory/contracts';
import type { DemandType, Reservation, ReservationLineInput, ReservationState } from '@inventory/domain';
import { fromItemKey, fromMs, toDemandType, toItemKey, toSegment } from './translate';

export function toReservationLineInput(line: pb.ReservationLine): ReservationLineInput {
  return {
    item: toItemKey(line.item),
    nodeId: line.nodeId,
    distributionGroupId: line.distributionGroupId,
    segment: toSegment(line.segment),
    quantity: line.quantity,
    allowSplit: line.allowSplit,
  };
}

/** `undefined` for UNSPECIFIED (no filter); 'UNKNOWN' for a value this service does not know. */
export function toReservationState(state: pb.ReservationState): ReservationState | undefined | 'UNKNOWN' {
  if (state === pb.ReservationState.RESERVATION_STATE_UNSPECIFIED) return undefined;
  const name = pb.ReservationState[state]?.replace(/^RESERVATION_STATE_/, '');
  return name === undefined || name === 'UNRECOGNIZED' ? 'UNKNOWN' : (name as ReservationState);
}

/** `undefined` for UNSPECIFIED; 'UNKNOWN' for a value this service does not know. */
export function toConsumedDemandType(type: pb.DemandType): DemandType | undefined | 'UNKNOWN' {
  if (type === pb.DemandType.DEMAND_TYPE_UNSPECIFIED) return undefined;
  return toDemandType(type) ?? 'UNKNOWN';
}

export function fromReservation(r: Reservation): pb.Reservation {
  return {
    reservationId: r.reservationId,
    state: pb.ReservationState[`RESERVATION_STATE_${r.state}`],
    lines: r.lines.map((l) => ({
      line: {
        item: fromItemKey(l.line.item),
        nodeId: 'nodeId' in l.line.location ? l.line.location.nodeId : undefined,
        distributionGroupId: 'distributionGroupId' in l.line.location ? l.line.location.distributionGroupId : undefined,
        segment: { segmentType: l.line.segment.segmentType, segment: l.line.segment.segment },
        quantity: l.line.quantity,
        allowSplit: l.line.allowSplit,
      },
      allocations: l.allocations.map((a) => ({ nodeId: a.nodeId, quantity: a.quantity })),
      consumedQuantity: l.consumedQuantity,
    })),
    expireTime: fromMs(r.expireMs),
    createTime: fromMs(r.createMs),
    updateTime: fromMs(r.updateMs),
  };
}
