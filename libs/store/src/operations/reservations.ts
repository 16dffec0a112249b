import type { Knex } from 'knex';
import type { Reservation, ReservationState } from '@inventory/domain';
import { holdRecordOf, newHoldRow, type HoldRecord, type HoldRow, type NewHold } from '../tables/reservation-holds';
import {
  reservationRecordOf,
  reservationRow,
  reservationStateColumns,
  reserveFirstAnswerOf,
  type ReservationRecord,
  type ReservationRow,
  type ReserveFirstAnswer,
} from '../tables/reservations';
import { chunks } from './chunks';

export type { HoldRecord, NewHold } from '../tables/reservation-holds';
export type { ReservationRecord, ReserveFirstAnswer } from '../tables/reservations';

/**
 * The INSERTs that store new reservations (with how they were asked, so a retry can be recognised, and
 * their first answer) and their holds. Plain inserts: new rows lock nothing another transaction waits for.
 */
export function reservationInserts(
  trx: Knex,
  reservations: ReadonlyArray<{ reservation: Reservation; requestHash: string }>,
  holds: readonly NewHold[],
): Knex.QueryBuilder[] {
  const reservationRows = reservations.map(({ reservation, requestHash }) => reservationRow(reservation, requestHash));
  const holdRows = holds.map(newHoldRow);
  return [
    ...chunks(reservationRows).map((rows) => trx('reservations').insert(rows)),
    ...chunks(holdRows).map((rows) => trx('reservation_holds').insert(rows)),
  ];
}

/** Adds units to a line's hold at a node, creating the hold if the line holds nothing there yet. */
export async function growHold({ trx, hold }: { trx: Knex.Transaction; hold: NewHold }): Promise<void> {
  const key = { reservation_id: hold.reservationId, line_index: hold.lineIndex, node_id: hold.nodeId };
  const row: HoldRow | undefined = await trx('reservation_holds').where(key).forUpdate().first();
  if (row) {
    const existing = holdRecordOf(row);
    await trx('reservation_holds')
      .where({ hold_id: existing.holdId })
      .update({ quantity: existing.quantity + hold.quantity, state: 'HELD', expire_ms: hold.expireMs });
    return;
  }
  const [insert] = reservationInserts(trx, [], [hold]);
  await insert;
}

/**
 * Locks a reservation and its HELD holds (reservation first, then holds), so that every change to one
 * reservation runs after the other. Returns undefined if there is no such reservation.
 */
export async function lockReservation({
  trx,
  reservationId,
}: {
  trx: Knex.Transaction;
  reservationId: string;
}): Promise<{ reservation: ReservationRecord; holds: HoldRecord[] } | undefined> {
  const row: ReservationRow | undefined = await trx('reservations')
    .where({ reservation_id: reservationId })
    .forUpdate()
    .first();
  if (!row) return undefined;
  const holds: HoldRow[] = await trx('reservation_holds')
    .where({ reservation_id: reservationId, state: 'HELD' })
    .orderBy('hold_id')
    .forUpdate();
  return { reservation: reservationRecordOf(row), holds: holds.map(holdRecordOf) };
}

/** The query for how earlier Reserve calls with these ids were asked and answered; see {@link firstAnswersOf}. */
export function firstAnswersQuery(db: Knex, reservationIds: readonly string[]): Knex.QueryBuilder {
  return db('reservations')
    .whereIn('reservation_id', reservationIds)
    .select('reservation_id', 'request_hash', 'first_answer');
}

type FirstAnswerRow = Pick<ReservationRow, 'reservation_id' | 'request_hash' | 'first_answer'>;

/** The rows a {@link firstAnswersQuery} returned (through a pipeline, which does not know their type), by reservation id. */
export function firstAnswersOf(rows: readonly unknown[]): Map<string, ReserveFirstAnswer> {
  return new Map((rows as readonly FirstAnswerRow[]).map((r) => [r.reservation_id, reserveFirstAnswerOf(r)]));
}

export async function findReservation({
  db,
  reservationId,
}: {
  db: Knex;
  reservationId: string;
}): Promise<ReservationRecord | undefined> {
  const row: ReservationRow | undefined = await db('reservations').where({ reservation_id: reservationId }).first();
  return row ? reservationRecordOf(row) : undefined;
}

/** Reservations after `afterId` in id order (keyset pagination). `EXPIRED` includes active ones past expiry. */
export async function listReservations({
  db,
  state,
  afterId,
  limit,
  nowMs,
}: {
  db: Knex;
  state: ReservationState | undefined;
  afterId: string;
  limit: number;
  nowMs: number;
}): Promise<ReservationRecord[]> {
  const query = db('reservations').where('reservation_id', '>', afterId).orderBy('reservation_id').limit(limit);
  if (state === 'ACTIVE') query.andWhere({ state }).andWhere('expire_ms', '>', nowMs);
  else if (state === 'EXPIRED')
    query.andWhere((q) =>
      q.where({ state }).orWhere((a) => a.where({ state: 'ACTIVE' }).andWhere('expire_ms', '<=', nowMs)),
    );
  else if (state) query.andWhere({ state });
  const rows: ReservationRow[] = await query;
  return rows.map(reservationRecordOf);
}

/** Writes a locked reservation's new state. */
export async function updateReservation({
  trx,
  reservation,
}: {
  trx: Knex.Transaction;
  reservation: ReservationRecord;
}): Promise<void> {
  await trx('reservations')
    .where({ reservation_id: reservation.reservationId })
    .update(reservationStateColumns(reservation));
}

/** Sets locked holds' quantities and states, and their expiry (all holds of a reservation share it). */
export async function updateHolds({
  trx,
  holds,
  expireMs,
}: {
  trx: Knex.Transaction;
  holds: ReadonlyArray<Pick<HoldRecord, 'holdId' | 'quantity' | 'state'>>;
  expireMs: number;
}): Promise<void> {
  for (const h of holds)
    await trx('reservation_holds')
      .where({ hold_id: h.holdId })
      .update({ quantity: h.quantity, state: h.state, expire_ms: expireMs });
}

/** Ids of active reservations past expiry, oldest expiry first. */
export async function expiredReservationIds({
  db,
  nowMs,
  limit,
}: {
  db: Knex;
  nowMs: number;
  limit: number;
}): Promise<string[]> {
  const rows: Array<Pick<ReservationRow, 'reservation_id'>> = await db('reservations')
    .select('reservation_id')
    .where({ state: 'ACTIVE' })
    .andWhere('expire_ms', '<=', nowMs)
    .orderBy('expire_ms')
    .limit(limit);
  return rows.map((r) => r.reservation_id);
}
