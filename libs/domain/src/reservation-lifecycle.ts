import type { HoldState } from './counting';
import { addTo, heldBy, subtract, unitsOf, withAllocations, withoutAllocations } from './allocations';
import type { DemandKey } from './demand';
import { InvalidArgumentError, ReservationNotActiveError, ReservationNotExpiredError } from './errors';
import {
  effectiveState,
  planAllocations,
  takeFromAllocations,
  type Allocation,
  type Balance,
  type LineDemand,
  type Reservation,
  type ReservationLine,
  type ReservedLine,
} from './reservation';
import type {
  ChangeQuantitiesCommand,
  ConsumeCommand,
  ExtendCommand,
  LineQuantityInput,
  ReserveCommand,
} from './reservation-commands';

/**
 * The life of a reservation, as pure transitions: reserve, extend, change quantities, release, consume and
 * expire. Each takes the reservation as stored with its HELD holds and the time, and returns the
 * reservation after the change with what the change does to holds, positions and demand, or throws a
 * typed refusal. Loading, locking and writing the result are the caller's.
 */

/** A HELD hold as stored: units of one line at one node. */
export interface HeldUnits {
  readonly lineIndex: number;
  readonly nodeId: string;
  readonly quantity: number;
}

/** A reservation as stored, with its holds that are still HELD. */
export interface HeldReservation<H extends HeldUnits = HeldUnits> {
  readonly reservation: Reservation;
  readonly holds: readonly H[];
}

/** What a transition does to one hold. */
export interface HoldChange<H extends HeldUnits = HeldUnits> {
  readonly hold: H;
  /** The hold's units after the change. */
  readonly quantity: number;
  readonly state: HoldState;
  /** Units the hold gives back to its position. */
  readonly freed: number;
}

/** Units a consumption turns into demand. */
export interface ConsumedDemand {
  readonly key: DemandKey;
  readonly quantity: number;
}

/** The event a transition announces on the change stream, named after what happened. */
export type ReservationEvent = 'created' | 'extended' | 'changed' | 'released' | 'consumed' | 'expired';

export interface ReservationTransition<H extends HeldUnits = HeldUnits> {
  /** The reservation after the change, as it is to be stored and announced. */
  readonly reservation: Reservation;
  /** Holds that change, end or take a new expiry (every hold takes the reservation's expiry). */
  readonly holds: readonly HoldChange<H>[];
  /** New units to hold, per line and node: to be checked against their positions and held. */
  readonly grown: readonly Allocation[];
  /** Demand to write for a consumption, per node the units were held at. */
  readonly demand: readonly ConsumedDemand[];
  readonly event: ReservationEvent;
}

/** Nodes an increase may hold more units at: given, or the group's nodes in priority order. */
export type IncreaseCandidates = { readonly nodeIds: readonly string[] } | { readonly distributionGroupId: string };

/** Units a line is to hold on top of what it holds. */
export interface LineIncrease {
  readonly lineIndex: number;
  readonly line: ReservationLine;
  readonly quantity: number;
  readonly candidates: IncreaseCandidates;
}

/** A quantity change with its decreases decided; its increases wait for the positions they may use. */
export interface QuantityChange<H extends HeldUnits = HeldUnits> extends ReservationTransition<H> {
  readonly increases: readonly LineIncrease[];
}

/** A new reservation holding the units planned for its lines. */
export function reserve(
  cmd: ReserveCommand,
  allocations: readonly Allocation[],
  nowMs: number,
): ReservationTransition<never> {
  const reservation: Reservation = {
    reservationId: cmd.reservationId,
    state: effectiveState('ACTIVE', cmd.expireMs, nowMs),
    lines: cmd.lines.map((line, lineIndex) => ({
      line,
      allocations: allocations.filter((a) => a.lineIndex === lineIndex),
      consumedQuantity: 0,
    })),
    expireMs: cmd.expireMs,
    createMs: nowMs,
    updateMs: nowMs,
  };
  return { reservation, holds: [], grown: allocations, demand: [], event: 'created' };
}

/** Moves the expiry of an active reservation and of all its holds. */
export function extendReservation<H extends HeldUnits>(
  current: HeldReservation<H>,
  cmd: ExtendCommand,
  nowMs: number,
): ReservationTransition<H> {
  requireActive(current, nowMs);
  const { reservation, holds } = current;
  return {
    reservation: { ...reservation, expireMs: cmd.expireMs, updateMs: nowMs },
    holds: holds.map((hold) => ({ hold, quantity: hold.quantity, state: 'HELD', freed: 0 })),
    grown: [],
    demand: [],
    event: 'extended',
  };
}

/** Ends an active reservation: every hold is released and its units are free again. */
export function releaseReservation<H extends HeldUnits>(
  current: HeldReservation<H>,
  nowMs: number,
): ReservationTransition<H> {
  requireActive(current, nowMs);
  return ended(current, 'RELEASED', nowMs, 'released');
}

/**
 * Ends an active reservation past its expiry time, as the expiry sweeper does. Refused for a reservation
 * that ended otherwise, or whose expiry has not come.
 */
export function expireReservation<H extends HeldUnits>(
  current: HeldReservation<H>,
  nowMs: number,
): ReservationTransition<H> {
  const { reservation } = current;
  if (reservation.state !== 'ACTIVE') throw new ReservationNotActiveError(reservation.reservationId, reservation.state);
  if (effectiveState(reservation.state, reservation.expireMs, nowMs) !== 'EXPIRED') {
    throw new ReservationNotExpiredError(reservation.reservationId, reservation.expireMs);
  }
  return ended(current, 'EXPIRED', nowMs, 'expired');
}

/**
 * Turns held units into demand for an order: the quantities named per line, or every line whole. Units
 * are taken from a line's first node first. The reservation is CONSUMED once no line holds anything.
 */
export function consumeReservation<H extends HeldUnits>(
  current: HeldReservation<H>,
  cmd: ConsumeCommand,
  nowMs: number,
): ReservationTransition<H> {
  requireActive(current, nowMs);
  const { reservation, holds } = current;
  const wanted = lineQuantities(reservation, cmd.lines, heldBy);
  const taken = reservation.lines.map((line, i) => {
    const take = wanted.get(i) ?? 0;
    if (take > heldBy(line)) throw invalidLine(i, `consumes ${take} but the line holds ${heldBy(line)}`);
    return takeFromAllocations(line.allocations, take, 'first');
  });
  const lines = reservation.lines.map((line, i) => ({
    ...line,
    line: { ...line.line, quantity: line.line.quantity - unitsOf(taken[i]!) },
    allocations: subtract(line.allocations, taken[i]!),
    consumedQuantity: line.consumedQuantity + unitsOf(taken[i]!),
  }));
  const demand = taken.flat().map((a): ConsumedDemand => {
    const { item, segment } = reservation.lines[a.lineIndex]!.line;
    return {
      key: { item, nodeId: a.nodeId, segment, demandType: cmd.demandType, orderReference: cmd.orderReference },
      quantity: a.quantity,
    };
  });
  return {
    reservation: {
      ...reservation,
      state: lines.every((l) => heldBy(l) === 0) ? 'CONSUMED' : 'ACTIVE',
      lines,
      updateMs: nowMs,
    },
    holds: takeFromHolds(holds, taken.flat(), 'CONSUMED'),
    grown: [],
    demand,
    event: 'consumed',
  };
}

/**
 * Sets lines to new quantities. A decrease frees units from the line's last node first (the group's lowest
 * priority). An increase is listed with the nodes it may use: the line's node; for a group line that may
 * not split and already holds units, the node it holds them at; otherwise the group's nodes. Complete it
 * with {@link increaseDemands} and {@link holdIncreases}.
 */
export function changeReservationQuantities<H extends HeldUnits>(
  current: HeldReservation<H>,
  cmd: ChangeQuantitiesCommand,
  nowMs: number,
): QuantityChange<H> {
  requireActive(current, nowMs);
  const { reservation, holds } = current;
  const wanted = lineQuantities(reservation, cmd.lines, () => Number.MAX_SAFE_INTEGER);
  const freed: Allocation[][] = [];
  const increases: LineIncrease[] = [];
  reservation.lines.forEach((line, lineIndex) => {
    const target = wanted.get(lineIndex);
    const delta = target === undefined ? 0 : target - heldBy(line);
    freed.push(delta < 0 ? takeFromAllocations(line.allocations, -delta, 'last') : []);
    if (delta > 0)
      increases.push({ lineIndex, line: line.line, quantity: delta, candidates: increaseCandidates(line) });
  });
  return {
    reservation: {
      ...reservation,
      lines: reservation.lines.map((line, i) => withAllocations(line, subtract(line.allocations, freed[i]!))),
      updateMs: nowMs,
    },
    holds: takeFromHolds(holds, freed.flat(), 'RELEASED'),
    grown: [],
    demand: [],
    event: 'changed',
    increases,
  };
}

/** The increases as requests for units, given the nodes of the groups they name (a group not found has none). */
export function increaseDemands(
  increases: readonly LineIncrease[],
  groupNodes: (distributionGroupId: string) => readonly string[] | undefined,
): LineDemand[] {
  return increases.map((inc) => ({
    lineIndex: inc.lineIndex,
    line: inc.line,
    quantity: inc.quantity,
    candidateNodes:
      'nodeIds' in inc.candidates ? inc.candidates.nodeIds : (groupNodes(inc.candidates.distributionGroupId) ?? []),
    allowSplit: inc.line.allowSplit,
  }));
}

/**
 * Completes a quantity change: plans its increases against what the positions can promise (all or
 * nothing, like a new reservation; see {@link planAllocations}) and adds the units to the lines.
 */
export function holdIncreases<H extends HeldUnits>(
  change: QuantityChange<H>,
  demands: readonly LineDemand[],
  balance: Balance,
): ReservationTransition<H> {
  const grown = planAllocations(demands, balance);
  const { increases: _increases, ...transition } = change;
  const lines = change.reservation.lines.map((line, i) =>
    withAllocations(
      line,
      addTo(
        line.allocations,
        grown.filter((a) => a.lineIndex === i),
      ),
    ),
  );
  return { ...transition, reservation: { ...change.reservation, lines }, grown };
}

/** The reservation as a caller sees it now: an active one past expiry is expired and holds nothing. */
export function reservationAsOf(reservation: Reservation, nowMs: number): Reservation {
  const state = effectiveState(reservation.state, reservation.expireMs, nowMs);
  return {
    ...reservation,
    state,
    lines: state === 'ACTIVE' || state === 'CONSUMED' ? reservation.lines : withoutAllocations(reservation.lines),
  };
}

/**
 * Refuses a change to a reservation that is not active now. Holds a position expired on its own (it found
 * them past expiry) count as an expiry of the whole reservation, so every unit is freed exactly once.
 */
function requireActive({ reservation, holds }: HeldReservation, nowMs: number): void {
  const state = effectiveState(reservation.state, reservation.expireMs, nowMs);
  if (state !== 'ACTIVE') throw new ReservationNotActiveError(reservation.reservationId, state);
  const expiredUnderneath = reservation.lines.some((line) => line.allocations.some((a) => !holdOf(holds, a)));
  if (expiredUnderneath) throw new ReservationNotActiveError(reservation.reservationId, 'EXPIRED');
}

function holdOf<H extends HeldUnits>(holds: readonly H[], allocation: Allocation): H | undefined {
  return holds.find((h) => h.lineIndex === allocation.lineIndex && h.nodeId === allocation.nodeId);
}

/** Ends every hold; the reservation keeps its lines but holds nothing. */
function ended<H extends HeldUnits>(
  { reservation, holds }: HeldReservation<H>,
  state: 'RELEASED' | 'EXPIRED',
  nowMs: number,
  event: ReservationEvent,
): ReservationTransition<H> {
  return {
    reservation: { ...reservation, state, lines: withoutAllocations(reservation.lines), updateMs: nowMs },
    holds: holds.map((hold) => ({ hold, quantity: hold.quantity, state, freed: hold.quantity })),
    grown: [],
    demand: [],
    event,
  };
}

/** Takes units out of the holds they were held in; a hold that reaches zero ends in `endState`. */
function takeFromHolds<H extends HeldUnits>(
  holds: readonly H[],
  taken: readonly Allocation[],
  endState: HoldState,
): HoldChange<H>[] {
  return taken.map((a) => {
    // requireActive found a hold for every allocation.
    const hold = holdOf(holds, a)!;
    const quantity = hold.quantity - a.quantity;
    return { hold, quantity, state: quantity === 0 ? endState : 'HELD', freed: a.quantity };
  });
}

function increaseCandidates({ line, allocations }: ReservedLine): IncreaseCandidates {
  if ('nodeId' in line.location) return { nodeIds: [line.location.nodeId] };
  if (!line.allowSplit && allocations.length > 0) return { nodeIds: [allocations[0]!.nodeId] };
  return { distributionGroupId: line.location.distributionGroupId };
}

/** Per line index, the quantity asked; no lines means every line at `whole(line)`. */
function lineQuantities(
  reservation: Reservation,
  lines: readonly LineQuantityInput[],
  whole: (line: ReservedLine) => number,
): Map<number, number> {
  if (lines.length === 0) return new Map(reservation.lines.map((l, i) => [i, whole(l)]));
  lines.forEach((l, i) => {
    if (l.lineIndex >= reservation.lines.length) {
      throw new InvalidArgumentError([
        {
          field: `lines[${i}].line_index`,
          description: `must be below ${reservation.lines.length}, the reservation's line count`,
        },
      ]);
    }
  });
  return new Map(lines.map((l) => [l.lineIndex, l.quantity]));
}

function invalidLine(i: number, description: string): InvalidArgumentError {
  return new InvalidArgumentError([{ field: `lines[${i}]`, description }]);
}
