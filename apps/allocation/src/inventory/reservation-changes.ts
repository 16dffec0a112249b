import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  candidatePositions,
  changeReservationQuantities,
  consumeReservation,
  expireReservation,
  extendReservation,
  holdIncreases,
  increaseDemands,
  InsufficientAvailabilityError,
  parseChangeQuantities,
  parseConsume,
  parseExtend,
  parsePageSize,
  parseRelease,
  positionKeyId,
  StockBalance,
  releaseReservation,
  requireId,
  ReservationNotActiveError,
  ReservationNotExpiredError,
  ReservationNotFoundError,
  reservationAsOf,
  UNSEGMENTED,
  type ConsumeInput,
  type DemandKey,
  type HeldReservation,
  type LineIncrease,
  type PositionKey,
  type LineQuantityInput,
  type Reservation,
  type ReservationChangeInput,
  type ReservationState,
  type ReservationTransition,
  type Clock,
} from '@inventory/domain';
import {
  appendOutbox,
  ensurePositions,
  expiredReservationIds,
  findReservation,
  getDistributionGroup,
  growHold,
  holdStatements,
  isRefusedHold,
  inTransaction,
  listReservations,
  lockPositions,
  lockReservation,
  positionsDueForRecount,
  readConsumptionRules,
  readPositions,
  shiftPositions,
  updateHolds,
  updateReservation,
  type Database,
  type HoldRecord,
  type StockPosition,
  mutate,
  decodePageToken,
  page,
} from '@inventory/store';
import type { EventContext, ReservationChange } from '../events/change-events';
import { reservationChangeEvents } from '../events/reservation-events';
import { holdCheckOf, holdOf } from './holds';
import { recountAndSettle, settleLoans } from './loans';
import { heldPositions } from '../events/position-events';
import { adjustLine, type QuantityLedger } from './quantity-ledger';

type Locked = HeldReservation<HoldRecord>;
type Transition = ReservationTransition<HoldRecord>;

/**
 * Everything that happens to a reservation after it is made: extend, change quantities, release, consume,
 * and expiry. The domain's lifecycle decides each change (see reservation-lifecycle in the domain); here
 * each one locks the reservation, then its holds, then (last, in position order) the positions whose
 * totals move, and writes the result in one transaction with its change-stream event.
 *
 * Expiry races every other change: a position that finds a hold past expiry marks it EXPIRED under the
 * hold's row lock. A change that then finds a hold missing treats the reservation as expired, so every
 * unit is released by exactly one of them.
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
    return reservationAsOf(found, this.clock());
  }

  async list(state: ReservationState | undefined, pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const filters = `reservations:${state ?? ''}`;
    const nowMs = this.clock();
    const rows = await listReservations({
      db: this.db.knex,
      state,
      afterId: decodePageToken(pageToken, filters, ''),
      limit: size + 1,
      nowMs,
    });
    const result = page(rows, size, (r) => r.reservationId, filters);
    return { items: result.items.map((r) => reservationAsOf(r, nowMs)), nextPageToken: result.nextPageToken };
  }

  async extend(input: ReservationChangeInput & { expireMs: number | undefined }): Promise<Reservation> {
    const cmd = parseExtend(input, this.clock());
    return this.change('ExtendReservation', input, async (trx, nowMs, locked) => {
      const transition = extendReservation(locked, cmd, nowMs);
      await this.writeHolds(trx, transition);
      return transition;
    });
  }

  async release(input: ReservationChangeInput): Promise<Reservation> {
    parseRelease(input);
    return this.change('ReleaseReservation', input, async (trx, nowMs, locked) => {
      const transition = releaseReservation(locked, nowMs);
      await this.writeHolds(trx, transition);
      return transition;
    });
  }

  async consume(input: ConsumeInput): Promise<Reservation> {
    const cmd = parseConsume(input);
    return this.change('ConsumeReservation', input, async (trx, nowMs, locked, actionId) => {
      const transition = consumeReservation(locked, cmd, nowMs);
      await this.writeHolds(trx, transition);
      const demandLines = transition.demand.map((d) => adjustLine(d.key, d.quantity, nowMs, 'RESERVATION_CONSUMED'));
      await this.demand.applyInTransaction(trx, nowMs, { actionId, requestId: input.requestId }, demandLines);
      return transition;
    });
  }

  async changeQuantities(
    input: ReservationChangeInput & { lines: readonly LineQuantityInput[] },
  ): Promise<Reservation> {
    const cmd = parseChangeQuantities(input);
    return this.change('ChangeReservationQuantities', input, async (trx, nowMs, locked) => {
      const change = changeReservationQuantities(locked, cmd, nowMs);
      // Decreases first, so that the units they free count for the increases.
      await this.writeHolds(trx, change);
      if (change.increases.length === 0) return change;
      const demands = increaseDemands(change.increases, await this.groupNodes(trx, change.increases));
      const keys = candidatePositions(demands);
      // Locked with their pools, so that what segments borrow is decided on loans that cannot move.
      const ids = await ensurePositions({ trx, keys: [...keys, ...keys.map((k) => ({ ...k, segment: UNSEGMENTED }))] });
      await lockPositions({ trx, positionIds: [...ids.values()] });
      const positions = await this.recountedPositions(trx, keys, nowMs);
      const balance = StockBalance.of(keys, positions, await readConsumptionRules({ db: trx }));
      const transition = holdIncreases(change, demands, balance);
      await this.holdMore(trx, nowMs, transition, positions, balance);
      return transition;
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
        if (!locked) return false;
        let transition: Transition;
        try {
          transition = expireReservation(locked, nowMs);
        } catch (err) {
          if (err instanceof ReservationNotActiveError || err instanceof ReservationNotExpiredError) return false;
          throw err;
        }
        await this.writeHolds(trx, transition);
        await this.record(
          trx,
          { actionId: randomUUID(), requestId: '', occurMs: nowMs, systemActor: 'reservation-expiry-sweeper' },
          locked,
          transition,
        );
        return true;
      });
      if (done) expired++;
    }
    return expired;
  }

  /** Runs a change to a reservation: locked, decided and written, announced; once per request id. */
  private change(
    method: string,
    input: ReservationChangeInput,
    work: (trx: Knex.Transaction, nowMs: number, locked: Locked, actionId: string) => Promise<Transition>,
  ): Promise<Reservation> {
    return mutate(
      { db: this.db, clock: this.clock, method, requestId: input.requestId, request: input },
      async (trx, nowMs) => {
        const locked = await lockReservation({ trx, reservationId: input.reservationId });
        if (!locked) throw new ReservationNotFoundError(input.reservationId);
        const actionId = randomUUID();
        const transition = await work(trx, nowMs, locked, actionId);
        await this.record(trx, { actionId, requestId: input.requestId, occurMs: nowMs }, locked, transition);
        return reservationAsOf(transition.reservation, nowMs);
      },
    );
  }

  /**
   * Writes the reservation after a transition, settles the loans of the positions it moved (once the
   * whole change is written: consuming frees holds and adds demand, which leaves a loan as it was), and
   * announces it.
   */
  private async record(
    trx: Knex.Transaction,
    context: EventContext,
    locked: Locked,
    transition: Transition,
  ): Promise<void> {
    const { reservation } = transition;
    await updateReservation({ trx, reservation });
    const rules = await readConsumptionRules({ db: trx });
    const loansMoved = await settleLoans(
      trx,
      [...heldPositions(locked.reservation.lines), ...heldPositions(reservation.lines)],
      rules,
    );
    const change: ReservationChange =
      transition.event === 'extended'
        ? { kind: 'extended', previousExpireMs: locked.reservation.expireMs }
        : { kind: transition.event };
    await appendOutbox({
      trx,
      events: await reservationChangeEvents(
        trx,
        context,
        change,
        { before: locked.reservation, after: reservation },
        { rules, loansMoved },
      ),
    });
  }

  /** Writes the holds a transition changes or ends, and takes the units they free off their positions. */
  private async writeHolds(trx: Knex.Transaction, transition: Transition): Promise<void> {
    const holds = transition.holds.map((c) => ({ holdId: c.hold.holdId, quantity: c.quantity, state: c.state }));
    await updateHolds({ trx, holds, expireMs: transition.reservation.expireMs });
    const freed = transition.holds.filter((c) => c.freed > 0);
    await shiftPositions({ trx, shifts: freed.map((c) => ({ positionId: c.hold.positionId, reserved: -c.freed })) });
  }

  /**
   * The positions an increase may draw on, recounted first where supply has arrived or holds have expired
   * since they were counted (as a Reserve batch does), so that the increase sees what is there now.
   */
  private async recountedPositions(
    trx: Knex.Transaction,
    keys: readonly PositionKey[],
    nowMs: number,
  ): Promise<ReadonlyMap<string, StockPosition>> {
    const positions = await readPositions({ db: trx, keys });
    const due = await positionsDueForRecount({
      db: trx,
      positionIds: [...positions.values()].map((p) => p.positionId),
      nowMs,
    });
    if (due.length === 0) return positions;
    await recountAndSettle(trx, due, nowMs);
    return readPositions({ db: trx, keys });
  }

  /** The nodes of the groups the increases may draw on, in priority order. */
  private async groupNodes(
    trx: Knex.Transaction,
    increases: readonly LineIncrease[],
  ): Promise<(distributionGroupId: string) => readonly string[] | undefined> {
    const groups = new Map<string, readonly string[]>();
    for (const inc of increases) {
      if (!('distributionGroupId' in inc.candidates) || groups.has(inc.candidates.distributionGroupId)) continue;
      const group = await getDistributionGroup({ db: trx, id: inc.candidates.distributionGroupId });
      if (group) groups.set(group.distributionGroupId, group.nodeIds);
    }
    return (id) => groups.get(id);
  }

  /**
   * Holds the units an increase was granted, checked like a new reservation: the conditional UPDATEs
   * come last, and refuse if another transaction took the units after the positions were read.
   */
  private async holdMore(
    trx: Knex.Transaction,
    nowMs: number,
    transition: Transition,
    positions: ReadonlyMap<string, StockPosition>,
    balance: StockBalance,
  ): Promise<void> {
    const { reservation } = transition;
    const holds = transition.grown.map((a) => {
      const line = reservation.lines[a.lineIndex]!.line;
      return holdOf(
        reservation,
        line,
        a,
        positions.get(positionKeyId({ item: line.item, nodeId: a.nodeId, segment: line.segment }))!,
      );
    });
    for (const hold of holds) await growHold({ trx, hold });
    // What segments borrow beyond their own, on their positions and on the pool's (which lends it).
    const loans = balance
      .loanChanges()
      .map(({ key, delta }) => ({ ...holdCheckOf(key, positions.get(positionKeyId(key))!), loan: delta }));
    try {
      for (const statement of holdStatements(trx, [...holds, ...loans], nowMs)) await statement;
    } catch (err) {
      if (!isRefusedHold(err)) throw err;
      // Another transaction took the units between the read and the update.
      throw new InsufficientAvailabilityError(
        holds.map((hold) => ({
          lineIndex: hold.lineIndex,
          itemId: hold.itemId,
          location: hold.nodeId,
          requested: hold.quantity,
          available: 0,
          own: 0,
          borrowable: 0,
        })),
      );
    }
  }
}
