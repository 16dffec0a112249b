import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  effectiveState,
  InvalidArgumentError,
  parseChangeQuantities,
  parseConsume,
  parseExtend,
  parsePageSize,
  parseRelease,
  planAllocations,
  positionKeyId,
  ReservationNotActiveError,
  ReservationNotFoundError,
  requireId,
  takeFromAllocations,
  candidatePositions,
  promisableBalance,
  withheldSafetyStock,
  InsufficientAvailabilityError,
  type Allocation,
  type ConsumeInput,
  type DemandKey,
  type LineDemand,
  type LineQuantityInput,
  type Reservation,
  type ReservationChangeInput,
  type ReservationState,
  type ReservedLine,
} from '@inventory/domain';
import {
  appendOutbox,
  expiredReservationIds,
  findReservation,
  getDistributionGroup,
  growHold,
  holdStatements,
  isRefusedHold,
  inTransaction,
  listReservations,
  lockReservation,
  readPositions,
  shiftPositions,
  updateHolds,
  updateReservation,
  type Database,
  type HoldRecord,
  type ReservationRecord,
} from '@inventory/store';
import type { ReservationChange } from '../events/change-events';
import { reservationChangeEvents } from '../events/reservation-events';
import type { Clock } from './clock';
import { mutate } from './mutation';
import { decodePageToken, page } from './page-token';
import { adjustLine, type QuantityLedger } from './quantity-ledger';

type Locked = { reservation: ReservationRecord; holds: HoldRecord[] };

/**
 * Everything that happens to a reservation after it is made: extend, change quantities, release, consume,
 * and expiry. Each change locks the reservation, then its holds, then (last, in position order) the
 * positions whose totals move, in one transaction with its change-stream event.
 *
 * Expiry races every other change: a position that finds a hold past expiry marks it EXPIRED under the
 * hold's row lock. A change that then finds fewer holds than the reservation had treats the reservation as
 * expired, so every unit is released by exactly one of them.
 */
export class ReservationChanges {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly demand: QuantityLedger<DemandKey>,
  ) {}

  async get(reservationId: string): Promise<Reservation> {
    requireId('reservation_id', reservationId);
    const found = await findReservation({ db: this.db.knex, reservationId });
    if (!found) throw new ReservationNotFoundError(reservationId);
    return asOf(found, this.clock());
  }

  async list(state: ReservationState | undefined, pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const filters = `reservations:${state ?? ''}`;
    const nowMs = this.clock();
    const rows = await listReservations({ db: this.db.knex, state, afterId: decodePageToken(pageToken, filters, ''), limit: size + 1, nowMs });
    const result = page(rows, size, (r) => r.reservationId, filters);
    return { items: result.items.map((r) => asOf(r, nowMs)), nextPageToken: result.nextPageToken };
  }

  async extend(input: ReservationChangeInput & { expireMs: number | undefined }): Promise<Reservation> {
    const { expireMs } = parseExtend(input, this.clock());
    return this.change('ExtendReservation', input, async (trx, nowMs, { reservation, holds }) => {
      await updateHolds({ trx, holds, expireMs });
      return { ...reservation, expireMs, updateMs: nowMs };
    });
  }

  async release(input: ReservationChangeInput): Promise<Reservation> {
    parseRelease(input);
    return this.change('ReleaseReservation', input, async (trx, nowMs, locked) => {
      await this.free(trx, locked.holds, 'RELEASED', locked.reservation.expireMs);
      return { ...locked.reservation, state: 'RELEASED', lines: withoutAllocations(locked.reservation.lines), updateMs: nowMs };
    });
  }

  async consume(input: ConsumeInput): Promise<Reservation> {
    const { demandType } = parseConsume(input);
    return this.change('ConsumeReservation', input, async (trx, nowMs, { reservation, holds }, actionId) => {
      const wanted = lineQuantities(reservation, input.lines, (line) => held(line));
      const lines = reservation.lines.map((line, i) => {
        const take = wanted.get(i) ?? 0;
        if (take > held(line)) throw invalidLine(i, `consumes ${take} but the line holds ${held(line)}`);
        return { line, taken: takeFromAllocations(line.allocations, take, 'first') };
      });
      const taken = lines.flatMap((l) => l.taken);
      await this.shrinkHolds(trx, holds, taken, 'CONSUMED', reservation.expireMs);
      const demandLines = taken.map((a) => {
        const line = reservation.lines[a.lineIndex]!.line;
        const key: DemandKey = { item: line.item, nodeId: a.nodeId, segment: line.segment, demandType, orderReference: input.orderReference };
        return adjustLine(key, a.quantity, nowMs, 'RESERVATION_CONSUMED');
      });
      await this.demand.applyInTransaction(trx, nowMs, { actionId, requestId: input.requestId }, demandLines);
      const after = lines.map(({ line, taken: t }) => ({
        ...line,
        line: { ...line.line, quantity: line.line.quantity - sum(t) },
        allocations: subtract(line.allocations, t),
        consumedQuantity: line.consumedQuantity + sum(t),
      }));
      const state = after.every((l) => held(l) === 0) ? 'CONSUMED' : 'ACTIVE';
      return { ...reservation, state, lines: after, updateMs: nowMs };
    });
  }

  async changeQuantities(input: ReservationChangeInput & { lines: readonly LineQuantityInput[] }): Promise<Reservation> {
    parseChangeQuantities(input);
    return this.change('ChangeReservationQuantities', input, async (trx, nowMs, { reservation, holds }) => {
      const wanted = lineQuantities(reservation, input.lines, () => Number.MAX_SAFE_INTEGER);
      const freed: Allocation[] = [];
      const more: Array<{ lineIndex: number; quantity: number; line: ReservedLine }> = [];
      reservation.lines.forEach((line, i) => {
        const target = wanted.get(i);
        if (target === undefined) return;
        const delta = target - held(line);
        if (delta < 0) freed.push(...takeFromAllocations(line.allocations, -delta, 'last'));
        if (delta > 0) more.push({ lineIndex: i, quantity: delta, line });
      });
      await this.shrinkHolds(trx, holds, freed, 'RELEASED', reservation.expireMs);
      const added = await this.holdMore(trx, nowMs, reservation, more);
      const lines = reservation.lines.map((line, i) => {
        const allocations = addTo(subtract(line.allocations, freed.filter((a) => a.lineIndex === i)), added.filter((a) => a.lineIndex === i));
        return { ...line, allocations, line: { ...line.line, quantity: sum(allocations) } };
      });
      return { ...reservation, lines, updateMs: nowMs };
    });
  }

  /**
   * Releases up to `limit` reservations past expiry, each in its own transaction. Returns how many this
   * call expired (a reservation changed meanwhile is skipped).
   */
  async sweepExpired(limit: number): Promise<number> {
    let expired = 0;
    for (const reservationId of await expiredReservationIds({ db: this.db.knex, nowMs: this.clock(), limit })) {
      const done = await inTransaction(this.db, async (trx) => {
        const nowMs = this.clock();
        const locked = await lockReservation({ trx, reservationId });
        if (!locked || effectiveState(locked.reservation.state, locked.reservation.expireMs, nowMs) !== 'EXPIRED' || locked.reservation.state !== 'ACTIVE') return false;
        await this.free(trx, locked.holds, 'EXPIRED', locked.reservation.expireMs);
        const reservation = { ...locked.reservation, state: 'EXPIRED' as const, lines: withoutAllocations(locked.reservation.lines), updateMs: nowMs };
        await updateReservation({ trx, reservation });
        const context = { actionId: randomUUID(), requestId: '', occurMs: nowMs, systemActor: 'reservation-expiry-sweeper' };
        await appendOutbox({ trx, events: await reservationChangeEvents(trx, context, { kind: 'expired' }, { before: locked.reservation, after: reservation }) });
        return true;
      });
      if (done) expired++;
    }
    return expired;
  }

  /** Runs a change to an active reservation: locked, checked, written, announced; once per request id. */
  private change(
    method: string,
    input: ReservationChangeInput,
    work: (trx: Knex.Transaction, nowMs: number, locked: Locked, actionId: string) => Promise<ReservationRecord>,
  ): Promise<Reservation> {
    return mutate({ db: this.db, clock: this.clock, method, requestId: input.requestId, request: input }, async (trx, nowMs) => {
      const locked = await lockReservation({ trx, reservationId: input.reservationId });
      if (!locked) throw new ReservationNotFoundError(input.reservationId);
      const state = effectiveState(locked.reservation.state, locked.reservation.expireMs, nowMs);
      // Holds a position expired on its own count as an expiry of the whole reservation.
      const expiredUnderneath = state === 'ACTIVE' && locked.holds.length < locked.reservation.lines.flatMap((l) => l.allocations).length;
      if (state !== 'ACTIVE' || expiredUnderneath) throw new ReservationNotActiveError(input.reservationId, expiredUnderneath ? 'EXPIRED' : state);
      const actionId = randomUUID();
      const after = await work(trx, nowMs, locked, actionId);
      await updateReservation({ trx, reservation: after });
      const context = { actionId, requestId: input.requestId, occurMs: nowMs };
      await appendOutbox({ trx, events: await reservationChangeEvents(trx, context, changeOf(method, locked.reservation), { before: locked.reservation, after }) });
      return asOf(after, nowMs);
    });
  }

  /** Ends every hold of a reservation and takes its units off the positions. */
  private async free(trx: Knex.Transaction, holds: readonly HoldRecord[], state: HoldRecord['state'], expireMs: number): Promise<void> {
    await updateHolds({ trx, holds: holds.map((h) => ({ ...h, state })), expireMs });
    await shiftPositions({ trx, shifts: holds.map((h) => ({ positionId: h.positionId, reserved: -h.quantity })) });
  }

  /** Takes units out of holds (ending those that reach zero) and off their positions. */
  private async shrinkHolds(trx: Knex.Transaction, holds: readonly HoldRecord[], taken: readonly Allocation[], endState: HoldRecord['state'], expireMs: number) {
    const changed = taken.map((a) => {
      const hold = holds.find((h) => h.lineIndex === a.lineIndex && h.nodeId === a.nodeId)!;
      const quantity = hold.quantity - a.quantity;
      return { ...hold, quantity, state: quantity === 0 ? endState : hold.state, taken: a.quantity };
    });
    await updateHolds({ trx, holds: changed, expireMs });
    await shiftPositions({ trx, shifts: changed.map((h) => ({ positionId: h.positionId, reserved: -h.taken })) });
  }

  /**
   * Holds extra units for lines being increased: at the line's node, at the node a whole (unsplit) group
   * line is held at, or across the group's nodes for a split line. Checked like a new reservation; the
   * conditional UPDATEs come last.
   */
  private async holdMore(
    trx: Knex.Transaction,
    nowMs: number,
    reservation: ReservationRecord,
    more: ReadonlyArray<{ lineIndex: number; quantity: number; line: ReservedLine }>,
  ): Promise<Allocation[]> {
    if (more.length === 0) return [];
    const demands: LineDemand[] = [];
    for (const m of more) {
      const { line } = m.line;
      let candidateNodes: readonly string[];
      if ('nodeId' in line.location) candidateNodes = [line.location.nodeId];
      else if (!line.allowSplit && m.line.allocations.length > 0) candidateNodes = [m.line.allocations[0]!.nodeId];
      else candidateNodes = (await getDistributionGroup({ db: trx, id: line.location.distributionGroupId }))?.nodeIds ?? [];
      demands.push({ lineIndex: m.lineIndex, line, quantity: m.quantity, candidateNodes, allowSplit: line.allowSplit });
    }
    const keys = candidatePositions(demands);
    const positions = await readPositions({ db: trx, keys });
    // A position due for a recount would refuse the hold anyway: plan as if it had nothing.
    const added = planAllocations(demands, promisableBalance(keys, (k) => {
      const p = positions.get(positionKeyId(k));
      return p && p.nextEtaMs > nowMs ? p : undefined;
    }));
    const holds = added.map((a) => {
      const line = reservation.lines[a.lineIndex]!.line;
      const key = { item: line.item, nodeId: a.nodeId, segment: line.segment };
      const position = positions.get(positionKeyId(key))!;
      return { key, position, hold: { reservationId: reservation.reservationId, lineIndex: a.lineIndex, positionId: position.positionId, nodeId: a.nodeId, itemId: line.item.itemId, quantity: a.quantity, expireMs: reservation.expireMs } };
    });
    for (const { hold } of holds) await growHold({ trx, hold });
    const checks = holds.map(({ key, position, hold }) => ({ positionId: position.positionId, quantity: hold.quantity, safetyStock: withheldSafetyStock(key, position) }));
    try {
      for (const statement of holdStatements(trx, checks, nowMs)) await statement;
    } catch (err) {
      if (!isRefusedHold(err)) throw err;
      // Another transaction took the units between the read and the update.
      throw new InsufficientAvailabilityError(holds.map(({ hold }) => ({ lineIndex: hold.lineIndex, itemId: hold.itemId, location: hold.nodeId, requested: hold.quantity, available: 0 })));
    }
    return added;
  }
}

/** What a change method did, for its event. */
function changeOf(method: string, before: ReservationRecord): ReservationChange {
  switch (method) {
    case 'ExtendReservation':
      return { kind: 'extended', previousExpireMs: before.expireMs };
    case 'ReleaseReservation':
      return { kind: 'released' };
    case 'ConsumeReservation':
      return { kind: 'consumed' };
    default:
      return { kind: 'changed' };
  }
}

/** The reservation as a caller sees it now: an active one past expiry is expired and holds nothing. */
function asOf(record: ReservationRecord, nowMs: number): Reservation {
  const state = effectiveState(record.state, record.expireMs, nowMs);
  return { ...record, state, lines: state === 'ACTIVE' || state === 'CONSUMED' ? record.lines : withoutAllocations(record.lines) };
}

function withoutAllocations(lines: readonly ReservedLine[]): ReservedLine[] {
  return lines.map((l) => ({ ...l, allocations: [] }));
}

const sum = (allocations: readonly Allocation[]) => allocations.reduce((s, a) => s + a.quantity, 0);
const held = (line: ReservedLine) => sum(line.allocations);

function subtract(allocations: readonly Allocation[], taken: readonly Allocation[]): Allocation[] {
  return allocations
    .map((a) => ({ ...a, quantity: a.quantity - sum(taken.filter((t) => t.lineIndex === a.lineIndex && t.nodeId === a.nodeId)) }))
    .filter((a) => a.quantity > 0);
}

function addTo(allocations: readonly Allocation[], added: readonly Allocation[]): Allocation[] {
  const result = [...allocations];
  for (const a of added) {
    const i = result.findIndex((r) => r.nodeId === a.nodeId);
    if (i >= 0) result[i] = { ...result[i]!, quantity: result[i]!.quantity + a.quantity };
    else result.push(a);
  }
  return result;
}

function invalidLine(i: number, description: string) {
  return new InvalidArgumentError([{ field: `lines[${i}]`, description }]);
}

/** Per line index, the quantity asked; no lines means every line at `whole(line)`. */
function lineQuantities(reservation: ReservationRecord, lines: readonly LineQuantityInput[], whole: (line: ReservedLine) => number): Map<number, number> {
  if (lines.length === 0) return new Map(reservation.lines.map((l, i) => [i, whole(l)]));
  lines.forEach((l, i) => {
    if (l.lineIndex >= reservation.lines.length) throw new InvalidArgumentError([{ field: `lines[${i}].line_index`, description: `must be below ${reservation.lines.length}, the reservation's line count` }]);
  });
  return new Map(lines.map((l) => [l.lineIndex, l.quantity]));
}
