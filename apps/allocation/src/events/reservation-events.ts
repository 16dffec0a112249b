import type { Knex } from 'knex';
import type { Reservation } from '@inventory/domain';
import type * as pb from '@inventory/contracts';
import { reservationEvent, type EventContext, type ReservationChange } from './change-events';
import { heldPositions, positionEventsAfterChange } from './position-events';

/**
 * A change to a reservation, and the totals of every position it held at before or holds at after.
 * Called last in the change's transaction, once the positions are updated and locked.
 */
export async function reservationChangeEvents(
  trx: Knex.Transaction,
  context: EventContext,
  change: ReservationChange,
  { before, after }: { before: Reservation; after: Reservation },
): Promise<pb.ChangeEvent[]> {
  // Extending moves no position's totals.
  const moved = change.kind === 'extended' ? [] : [...heldPositions(before.lines), ...heldPositions(after.lines)];
  return [reservationEvent(context, change, after), ...(await positionEventsAfterChange(trx, context, moved))];
}
