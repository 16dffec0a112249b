import { withheldSafetyStock, type Allocation, type ReservationLine } from '@inventory/domain';
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
    reservationId: reservation.reservationId,
    lineIndex: allocation.lineIndex,
    positionId: position.positionId,
    nodeId: allocation.nodeId,
    itemId: line.item.itemId,
    quantity: allocation.quantity,
    expireMs: reservation.expireMs,
    safetyStock: withheldSafetyStock({ item: line.item, nodeId: allocation.nodeId, segment: line.segment }, position),
  };
}
