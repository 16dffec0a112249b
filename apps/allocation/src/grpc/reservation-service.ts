import * as pb from '@inventory/contracts';
import { InvalidArgumentError } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { ReservationChanges } from '../inventory/reservation-changes';
import type { ReservationDesk } from '../inventory/reservation-desk';
import {
  fromReservation,
  toConsumedDemandType,
  toReservationLineInput,
  toReservationState,
} from './reservation-translate';
import { toMs } from './translate';

const RESERVATION_STATE_NAMES = Object.keys(pb.ReservationState)
  .filter((name) => /^RESERVATION_STATE_[A-Z]/.test(name) && name !== 'RESERVATION_STATE_UNSPECIFIED')
  .join(', ');

export function reservationServiceHandlers(
  desk: ReservationDesk,
  changes: ReservationChanges,
  logger: Logger,
): pb.ReservationServiceServer {
  return {
    reserve: unary('Reserve', logger, async (req: pb.ReserveRequest) => ({
      reservation: fromReservation(
        await desk.reserve({
          reservationId: req.reservationId,
          lines: req.lines.map(toReservationLineInput),
          expireMs: toMs(req.expireTime),
        }),
      ),
    })),
    getReservation: unary('GetReservation', logger, async (req: pb.GetReservationRequest) => ({
      reservation: fromReservation(await changes.get(req.reservationId)),
    })),
    listReservations: unary('ListReservations', logger, async (req: pb.ListReservationsRequest) => {
      const state = toReservationState(req.state);
      // A filter this service does not know would silently match nothing or everything: refuse it.
      if (state === 'UNKNOWN')
        throw new InvalidArgumentError([
          { field: 'state', description: `must be one of ${RESERVATION_STATE_NAMES}, or unset for all` },
        ]);
      const { items, nextPageToken } = await changes.list(state, req.pageSize, req.pageToken);
      return { reservations: items.map(fromReservation), nextPageToken };
    }),
    extendReservation: unary('ExtendReservation', logger, async (req: pb.ExtendReservationRequest) => ({
      reservation: fromReservation(
        await changes.extend({
          requestId: req.requestId,
          reservationId: req.reservationId,
          expireMs: toMs(req.expireTime),
        }),
      ),
    })),
    changeReservationQuantities: unary(
      'ChangeReservationQuantities',
      logger,
      async (req: pb.ChangeReservationQuantitiesRequest) => ({
        reservation: fromReservation(
          await changes.changeQuantities({
            requestId: req.requestId,
            reservationId: req.reservationId,
            lines: req.lines,
          }),
        ),
      }),
    ),
    releaseReservation: unary('ReleaseReservation', logger, async (req: pb.ReleaseReservationRequest) => ({
      reservation: fromReservation(
        await changes.release({ requestId: req.requestId, reservationId: req.reservationId }),
      ),
    })),
    consumeReservation: unary('ConsumeReservation', logger, async (req: pb.ConsumeReservationRequest) => ({
      reservation: fromReservation(
        await changes.consume({
          requestId: req.requestId,
          reservationId: req.reservationId,
          orderReference: req.orderReference,
          lines: req.lines,
          demandType: toConsumedDemandType(req.demandType),
        }),
      ),
    })),
  };
}
