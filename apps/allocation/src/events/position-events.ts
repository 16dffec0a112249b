import type { Knex } from 'knex';
import { StockBalance, type ConsumptionRules, type PositionKey, type ReservedLine } from '@inventory/domain';
import { readPositions } from '@inventory/store';
import type * as pb from '@inventory/contracts';
import { positionEvent, type EventContext } from './change-events';

/**
 * `position_availability_changed` events for the positions among `moved` and the others whose figures
 * they may move (the pool and its borrowing segments: see StockBalance.touchedBy), with their totals read
 * in the caller's transaction. Called after the change has updated the positions, so the moved ones' row
 * locks are held and their totals are those the commit leaves (one read per chunk of item-nodes).
 */
export async function positionEventsAfterChange(
  trx: Knex.Transaction,
  context: EventContext,
  moved: readonly PositionKey[],
  rules: ConsumptionRules,
): Promise<pb.ChangeEvent[]> {
  if (moved.length === 0) return [];
  const balance = StockBalance.of([], await readPositions({ db: trx, keys: moved }), rules);
  return positionEvents(context, balance, moved, rules.version);
}

/** The events of the positions a change at `moved` may have moved, as they stand in `balance`. */
export function positionEvents(
  context: EventContext,
  balance: StockBalance,
  moved: readonly PositionKey[],
  rulesVersion: number,
): pb.ChangeEvent[] {
  return balance.touchedBy(moved).flatMap((key) => {
    const position = balance.position(key);
    return position ? [positionEvent(context, key, position, rulesVersion)] : [];
  });
}

/** The positions a reservation's lines hold units at. */
export function heldPositions(lines: readonly ReservedLine[]): PositionKey[] {
  return lines.flatMap((l) =>
    l.allocations.map((a) => ({ item: l.line.item, nodeId: a.nodeId, segment: l.line.segment })),
  );
}
