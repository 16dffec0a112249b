import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { ConsumptionRules, PositionKey, Reservation, StockBalance } from '@inventory/domain';
import type * as pb from '@inventory/contracts';
import { reservationEvent, type EventContext, type ReservationChange } from './change-events';
import { heldPositions, positionEvents, positionEventsAfterChange } from './position-events';

/**
 * A change to a reservation, and the totals of every position it held at before or holds at after.
 * Called last in the change's transaction, once the positions are updated and locked.
 */
export async function reservationChangeEvents(
  trx: Knex.Transaction,
  context: EventContext,
  change: ReservationChange,
  { before, after }: { before: Reservation; after: Reservation },
  { rules, loansMoved }: { rules: ConsumptionRules; loansMoved: readonly PositionKey[] },
): Promise<pb.ChangeEvent[]> {
  // Extending moves no position's totals.
  const moved =
    change.kind === 'extended' ? [] : [...heldPositions(before.lines), ...heldPositions(after.lines), ...loansMoved];
  return [reservationEvent(context, change, after), ...(await positionEventsAfterChange(trx, context, moved, rules))];
}

/**
 * A batch's events: each reservation made, then each position it holds at (and those whose figures its
 * loans move), as they stand in the balance the batch decided on: the totals the batch read plus what it
 * holds (the hot path reads no position twice; see PositionAvailabilityChanged).
 * The reservations of a batch of several share the batch's action id as their related action id.
 */
export function reserveBatchEvents(
  granted: ReadonlyArray<{ reservation: Reservation }>,
  balance: StockBalance,
  rulesVersion: number,
  nowMs: number,
): pb.ChangeEvent[] {
  const batchId = randomUUID();
  const related = granted.length > 1 ? batchId : '';
  const made = granted.map(({ reservation }) =>
    reservationEvent(
      { actionId: randomUUID(), requestId: reservation.reservationId, occurMs: nowMs, relatedActionId: related },
      { kind: 'created' },
      reservation,
    ),
  );
  const context =
    granted.length === 1
      ? { actionId: made[0]!.actionId, requestId: made[0]!.requestId, occurMs: nowMs }
      : { actionId: batchId, requestId: '', occurMs: nowMs, relatedActionId: related };
  const moved = [
    ...granted.flatMap(({ reservation }) => heldPositions(reservation.lines)),
    ...balance.loanChanges().map((c) => c.key),
  ];
  return [...made, ...positionEvents(context, balance, moved, rulesVersion)];
}
