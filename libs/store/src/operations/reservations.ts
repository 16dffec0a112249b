import type { Knex } from 'knex';
import type { Reservation, ReservationState, ReservedLine } from '@inventory/domain';
import { chunks } from './chunks';

/** A reservation row as stored (without its holds). */
export interface ReservationRecord {
  readonly reservationId: string;
  readonly state: ReservationState;
  readonly expireMs: number;
  readonly lines: readonly ReservedLine[];
  readonly createMs: number;
  readonly updateMs: number;
}

/** Units of one reservation line held at one position. */
export interface HoldRecord {
  readonly holdId: number;
  readonly reservationId: string;
  readonly lineIndex: number;
  readonly positionId: number;
  readonly nodeId: string;
  readonly quantity: number;
  readonly state: 'HELD' | 'RELEASED' | 'CONSUMED' | 'EXPIRED';
}

function toRecord(row: Record<string, unknown>): ReservationRecord {
  return {
    reservationId: String(row.reservation_id),
    state: row.state as ReservationState,
    expireMs: Number(row.expire_ms),
    lines: JSON.parse(String(row.lines)) as ReservedLine[],
    createMs: Number(row.created_ms),
    updateMs: Number(row.updated_ms),
  };
}

function toHold(row: Record<string, unknown>): HoldRecord {
  return {
    holdId: Number(row.hold_id),
    reservationId: String(row.reservation_id),
    lineIndex: Number(row.line_index),
    positionId: Number(row.position_id),
    nodeId: String(row.node_id),
    quantity: Number(row.quantity),
    state: row.state as HoldRecord['state'],
  };
}

/** A new hold: units of one line of a new reservation at one position. */
export type NewHold = Omit<HoldRecord, 'holdId' | 'state'> & { readonly itemId: string; readonly expireMs: number };

/**
 * The INSERTs that store new reservations (with how they were asked, so a retry can be recognised, and
 * their first answer) and their holds. Plain inserts: new rows lock nothing another transaction waits for.
 */
export function reservationInserts(
  trx: Knex,
  reservations: ReadonlyArray<{ reservation: Reservation; requestHash: string }>,
  holds: readonly NewHold[],
): Knex.QueryBuilder[] {
  const reservationRows = reservations.map(({ reservation: r, requestHash }) => ({
    reservation_id: r.reservationId,
    request_hash: requestHash,
    first_answer: JSON.stringify(r),
    state: r.state,
    expire_ms: r.expireMs,
    lines: JSON.stringify(r.lines),
    created_ms: r.createMs,
    updated_ms: r.updateMs,
  }));
  const holdRows = holds.map((h) => ({
    reservation_id: h.reservationId,
    line_index: h.lineIndex,
    position_id: h.positionId,
    node_id: h.nodeId,
    item_id: h.itemId,
    quantity: h.quantity,
    state: 'HELD',
    expire_ms: h.expireMs,
  }));
  return [...chunks(reservationRows).map((rows) => trx('reservations').insert(rows)), ...chunks(holdRows).map((rows) => trx('reservation_holds').insert(rows))];
}

/** Adds units to a line's hold at a node, creating the hold if the line holds nothing there yet. */
export async function growHold({ trx, hold }: { trx: Knex.Transaction; hold: NewHold }): Promise<void> {
  const key = { reservation_id: hold.reservationId, line_index: hold.lineIndex, node_id: hold.nodeId };
  const existing = await trx('reservation_holds').where(key).forUpdate().first();
  if (existing) {
    await trx('reservation_holds').where({ hold_id: existing.hold_id }).update({ quantity: Number(existing.quantity) + hold.quantity, state: 'HELD', expire_ms: hold.expireMs });
    return;
  }
  const [insert] = reservationInserts(trx, [], [hold]);
  await insert;
}

/**
 * Locks a reservation and its HELD holds (reservation first, then holds), so that every change to one
 * reservation runs after the other. Returns undefined if there is no such reservation.
 */
export async function lockReservation(
  { trx, reservationId }: { trx: Knex.Transaction; reservationId: string },
): Promise<{ reservation: ReservationRecord; holds: HoldRecord[] } | undefined> {
  const row = await trx('reservations').where({ reservation_id: reservationId }).forUpdate().first();
  if (!row) return undefined;
  const holds = await trx('reservation_holds').where({ reservation_id: reservationId, state: 'HELD' }).orderBy('hold_id').forUpdate();
  return { reservation: toRecord(row), holds: holds.map(toHold) };
}

/** The query for how earlier Reserve calls with these ids were asked and answered; see {@link firstAnswersOf}. */
export function firstAnswersQuery(db: Knex, reservationIds: readonly string[]): Knex.QueryBuilder {
  return db('reservations').whereIn('reservation_id', reservationIds).select('reservation_id', 'request_hash', 'first_answer');
}

export function firstAnswersOf(rows: ReadonlyArray<Record<string, unknown>>): Map<string, { requestHash: string; answer: Reservation }> {
  return new Map(rows.map((r) => [String(r.reservation_id), { requestHash: String(r.request_hash), answer: JSON.parse(String(r.first_answer)) as Reservation }]));
}

export async function findReservation({ db, reservationId }: { db: Knex; reservationId: string }): Promise<ReservationRecord | undefined> {
  const row = await db('reservations').where({ reservation_id: reservationId }).first();
  return row ? toRecord(row) : undefined;
}

/** Reservations after `afterId` in id order (keyset pagination). `EXPIRED` includes active ones past expiry. */
export async function listReservations(
  { db, state, afterId, limit, nowMs }: { db: Knex; state: ReservationState | undefined; afterId: string; limit: number; nowMs: number },
): Promise<ReservationRecord[]> {
  const query = db('reservations').where('reservation_id', '>', afterId).orderBy('reservation_id').limit(limit);
  if (state === 'ACTIVE') query.andWhere({ state }).andWhere('expire_ms', '>', nowMs);
  else if (state === 'EXPIRED') query.andWhere((q) => q.where({ state }).orWhere((a) => a.where({ state: 'ACTIVE' }).andWhere('expire_ms', '<=', nowMs)));
  else if (state) query.andWhere({ state });
  return (await query).map(toRecord);
}

/** Writes a locked reservation's new state. */
export async function updateReservation({ trx, reservation }: { trx: Knex.Transaction; reservation: ReservationRecord }): Promise<void> {
  await trx('reservations')
    .where({ reservation_id: reservation.reservationId })
    .update({ state: reservation.state, expire_ms: reservation.expireMs, lines: JSON.stringify(reservation.lines), updated_ms: reservation.updateMs });
}

/** Sets locked holds' quantities and states, and their expiry (all holds of a reservation share it). */
export async function updateHolds(
  { trx, holds, expireMs }: { trx: Knex.Transaction; holds: ReadonlyArray<Pick<HoldRecord, 'holdId' | 'quantity' | 'state'>>; expireMs: number },
): Promise<void> {
  for (const h of holds) await trx('reservation_holds').where({ hold_id: h.holdId }).update({ quantity: h.quantity, state: h.state, expire_ms: expireMs });
}

/** Ids of active reservations past expiry, oldest expiry first. */
export async function expiredReservationIds({ db, nowMs, limit }: { db: Knex; nowMs: number; limit: number }): Promise<string[]> {
  return db('reservations').where({ state: 'ACTIVE' }).andWhere('expire_ms', '<=', nowMs).orderBy('expire_ms').limit(limit).pluck('reservation_id');
}
