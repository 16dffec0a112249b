import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { positionKeyId, type PositionKey, type Reservation } from '@inventory/domain';
import type { StockPosition } from '@inventory/store';
import type * as pb from '@inventory/contracts';
import { positionEvent, reservationEvent, type EventContext, type ReservationChange } from './change-events';
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

/**
 * A batch's events: each reservation made, then each position it holds at, with the totals the batch read
 * plus what the batch holds there (the hot path reads no position twice; see PositionAvailabilityChanged).
 * The reservations of a batch of several share the batch's action id as their related action id.
 */
export function reserveBatchEvents(
  granted: ReadonlyArray<{ reservation: Reservation }>,
  positionAt: (k: PositionKey) => StockPosition | undefined,
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
  const held = new Map<string, { key: PositionKey; quantity: number }>();
  for (const { reservation } of granted) {
    for (const { line, allocations } of reservation.lines) {
      for (const a of allocations) {
        const key = { item: line.item, nodeId: a.nodeId, segment: line.segment };
        const entry = held.get(positionKeyId(key)) ?? { key, quantity: 0 };
        held.set(positionKeyId(key), { key, quantity: entry.quantity + a.quantity });
      }
    }
  }
  const moved = [...held.values()].map(({ key, quantity }) => {
    const read = positionAt(key)!;
    return positionEvent(context, key, { ...read, reserved: read.reserved + quantity });
  });
  return [...made, ...moved];
}
