/**
 * The sync-versus-adjust rule. A sync sets an absolute quantity as of a source time; an adjust is a delta
 * dated by its source time. Source systems deliver them out of order, so:
 *
 * - an adjust dated at or before the position's last sync is already inside that sync: it is ignored;
 * - a sync dated before the position's last sync is stale: it is ignored;
 * - a sync keeps the adjusts already received that are dated after it: they are applied again on top of
 *   the synced quantity.
 *
 * Worked example: adjust -1 (12:04) arrives, then sync 100 (12:03), then adjust -2 (12:02). The sync
 * yields 100 + (-1) = 99 and the -2 is ignored.
 */

/** The state of one supply position that the rule needs. */
export interface PositionState {
  readonly quantity: number;
  readonly lastSyncMs: number | null;
}

export type SupplyOutcome = 'APPLIED' | 'IGNORED_SUPERSEDED';

export interface SupplyDecision {
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
  readonly lastSyncMs: number | null;
}

/** Whether an adjust dated `sourceMs` is already covered by the position's last sync. */
export function isSupersededAdjust(position: PositionState, sourceMs: number): boolean {
  return position.lastSyncMs !== null && sourceMs <= position.lastSyncMs;
}

/** Whether a sync dated `sourceMs` is older than the position's last sync. */
export function isStaleSync(position: PositionState, sourceMs: number): boolean {
  return position.lastSyncMs !== null && sourceMs < position.lastSyncMs;
}

/**
 * Applies a delta. The quantity may go below zero: a decrement can arrive before the sync it follows, and
 * refusing it would lose a change that the late sync needs re-applied. Availability floors at zero anyway.
 */
export function decideAdjust(position: PositionState, delta: number, sourceMs: number): SupplyDecision {
  if (isSupersededAdjust(position, sourceMs)) return unchanged(position);
  return {
    outcome: 'APPLIED',
    quantityBefore: position.quantity,
    quantityAfter: position.quantity + delta,
    lastSyncMs: position.lastSyncMs,
  };
}

/**
 * Applies a sync.
 * @param laterAdjustsSum sum of the deltas already applied to this position that are dated after `sourceMs`.
 */
export function decideSync(
  position: PositionState,
  quantity: number,
  sourceMs: number,
  laterAdjustsSum: number,
): SupplyDecision {
  if (isStaleSync(position, sourceMs)) return unchanged(position);
  return {
    outcome: 'APPLIED',
    quantityBefore: position.quantity,
    quantityAfter: quantity + laterAdjustsSum,
    lastSyncMs: sourceMs,
  };
}

function unchanged(position: PositionState): SupplyDecision {
  return {
    outcome: 'IGNORED_SUPERSEDED',
    quantityBefore: position.quantity,
    quantityAfter: position.quantity,
    lastSyncMs: position.lastSyncMs,
  };
}

/** A position that has never been written. */
export const EMPTY_POSITION: PositionState = Object.freeze({ quantity: 0, lastSyncMs: null });
