import type { Reservation, ReservationState, ReservedLine } from '@inventory/domain';
import { codeOf, integerOf, jsonOf, type IntegerColumn } from './columns';

const RESERVATION_STATES: readonly ReservationState[] = ['ACTIVE', 'RELEASED', 'CONSUMED', 'EXPIRED'];

/** A row of `reservations` (its holds are rows of `reservation_holds`). */
export interface ReservationRow {
  readonly reservation_id: string;
  /** An ACTIVE row past `expire_ms` is expired. */
  readonly state: string;
  readonly expire_ms: IntegerColumn;
  /** The lines as asked for, with their current quantities and what was consumed, as JSON. */
  readonly lines: string;
  /** How the Reserve call was asked and first answered (JSON), so that a retry gets the same answer. */
  readonly request_hash: string;
  readonly first_answer: string;
  readonly created_ms: IntegerColumn;
  readonly updated_ms: IntegerColumn;
}

/** A reservation row as stored (without its holds). */
export interface ReservationRecord {
  readonly reservationId: string;
  readonly state: ReservationState;
  readonly expireMs: number;
  readonly lines: readonly ReservedLine[];
  readonly createMs: number;
  readonly updateMs: number;
}

/** How a Reserve call was first asked and answered. */
export interface ReserveFirstAnswer {
  readonly requestHash: string;
  readonly answer: Reservation;
}

/** The columns of a reservation that change after it is made. */
export function reservationStateColumns(
  r: ReservationRecord,
): Pick<ReservationRow, 'state' | 'expire_ms' | 'lines' | 'updated_ms'> {
  return { state: r.state, expire_ms: r.expireMs, lines: JSON.stringify(r.lines), updated_ms: r.updateMs };
}

export function reservationRow(reservation: Reservation, requestHash: string): ReservationRow {
  return {
    reservation_id: reservation.reservationId,
    ...reservationStateColumns(reservation),
    request_hash: requestHash,
    first_answer: JSON.stringify(reservation),
    created_ms: reservation.createMs,
  };
}

export function reservationRecordOf(row: ReservationRow): ReservationRecord {
  return {
    reservationId: row.reservation_id,
    state: codeOf(RESERVATION_STATES, row.state, 'reservations.state'),
    expireMs: integerOf(row.expire_ms, 'reservations.expire_ms'),
    lines: jsonOf<ReservedLine[]>(row.lines),
    createMs: integerOf(row.created_ms, 'reservations.created_ms'),
    updateMs: integerOf(row.updated_ms, 'reservations.updated_ms'),
  };
}

export function reserveFirstAnswerOf(row: Pick<ReservationRow, 'request_hash' | 'first_answer'>): ReserveFirstAnswer {
  return { requestHash: row.request_hash, answer: jsonOf<Reservation>(row.first_answer) };
}
