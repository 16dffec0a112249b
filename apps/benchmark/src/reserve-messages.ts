/**
 * The Reserve request the service target sends, and a typical answer to it. The echo baseline (B2) sends
 * and returns byte strings of exactly these encoded sizes, so it moves the same bytes per call.
 */
import { ReservationState, ReserveRequest, ReserveResponse, type SegmentKey } from '@inventory/contracts';

/** How long the benchmark's reservations hold: longer than any run, so none expires while it is checked. */
const HOLD_MS = 60 * 60 * 1000;

/** One unit of `itemId` at `nodeId`, in `segment` (by default unsegmented), as one reservation. */
export function reserveRequest(
  reservationId: string,
  itemId: string,
  nodeId: string,
  segment: SegmentKey = { segmentType: '', segment: '' },
): ReserveRequest {
  return {
    reservationId,
    lines: [
      {
        item: { itemId, unitOfMeasure: '', productClass: '' },
        nodeId,
        distributionGroupId: undefined,
        segment: { ...segment },
        quantity: 1,
        allowSplit: false,
      },
    ],
    expireTime: new Date(Date.now() + HOLD_MS),
  };
}

/**
 * A reservation id and keys as long as the spread scenario's, for sizing the echo messages. Its times are
 * fixed (with a millisecond part, like real ones) so that parent and echo server agree on the sizes.
 */
const SAMPLE_TIME = new Date('2026-11-29T12:34:56.789Z');
const SAMPLE_REQUEST: ReserveRequest = {
  ...reserveRequest('bench-m4k2x9p1-spread-63-123456', 'ITEM_042', 'NODE_042'),
  expireTime: new Date(SAMPLE_TIME.getTime() + HOLD_MS),
};

/** Encoded size of a typical ReserveRequest. */
export function sampleRequestBytes(): Uint8Array {
  return ReserveRequest.encode(SAMPLE_REQUEST).finish();
}

/** Encoded ReserveResponse for {@link SAMPLE_REQUEST}: the line held wholly at its node. */
export function sampleResponseBytes(): Uint8Array {
  const line = SAMPLE_REQUEST.lines[0];
  return ReserveResponse.encode({
    reservation: {
      reservationId: SAMPLE_REQUEST.reservationId,
      state: ReservationState.RESERVATION_STATE_ACTIVE,
      lines: [{ line, allocations: [{ nodeId: line.nodeId ?? '', quantity: line.quantity }], consumedQuantity: 0 }],
      expireTime: SAMPLE_REQUEST.expireTime,
      createTime: SAMPLE_TIME,
      updateTime: SAMPLE_TIME,
    },
  }).finish();
}
