import type { Knex } from 'knex';
import { positionKeyId, type PositionKey, type ReservedLine } from '@inventory/domain';
import { readPositions } from '@inventory/store';
import type * as pb from '@inventory/contracts';
import { positionEvent, type EventContext } from './change-events';

/**
 * One `position_availability_changed` event per position among `keys`, with its totals read in the
 * caller's transaction. Called after the change has updated the positions, so their row locks are held
 * and the totals are those the commit leaves (one read per chunk of positions).
 */
export async function positionEventsAfterChange(
  trx: Knex.Transaction,
  context: EventContext,
  keys: readonly PositionKey[],
): Promise<pb.ChangeEvent[]> {
  if (keys.length === 0) return [];
  const unique = [...new Map(keys.map((k) => [positionKeyId(k), k])).values()];
  const totals = await readPositions({ db: trx, keys: unique });
  return unique.flatMap((key) => {
    const position = totals.get(positionKeyId(key));
    return position ? [positionEvent(context, key, position)] : [];
  });
}

/** The positions a reservation's lines hold units at. */
export function heldPositions(lines: readonly ReservedLine[]): PositionKey[] {
  return lines.flatMap((l) =>
    l.allocations.map((a) => ({ item: l.line.item, nodeId: a.nodeId, segment: l.line.segment })),
  );
}
