import { withheldSafetyStock, type Allocation, type PositionKey, type ReservationLine } from '@inventory/domain';
import type { HoldRequest, NewHold, StockPosition } from '@inventory/store';

/**
 * The hold that keeps an allocation of a reservation line at its position, and what the check-and-hold
 * UPDATE needs to take the units there (the safety stock withheld at the position).
 */
export function holdOf(
  reservation: { readonly reservationId: string; readonly expireMs: number },
  line: ReservationLine,
  allocation: Allocation,
  position: StockPosition,
): NewHold & HoldRequest {
  return {
    ...holdCheckOf({ item: line.item, nodeId: allocation.nodeId, segment: line.segment }, position),
    reservationId: reservation.reservationId,
    lineIndex: allocation.lineIndex,
    nodeId: allocation.nodeId,
    itemId: line.item.itemId,
    quantity: allocation.quantity,
    expireMs: reservation.expireMs,
  };
}

/** What the check-and-hold UPDATE needs of a position to take units (or lend them) there. */
export function holdCheckOf(
  key: PositionKey,
  position: StockPosition,
): Pick<HoldRequest, 'positionId' | 'quantity' | 'safetyStock'> {
  return { positionId: position.positionId, quantity: 0, safetyStock: withheldSafetyStock(key, position) };
}
