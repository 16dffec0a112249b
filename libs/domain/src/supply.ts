import type { ItemKey, SegmentKey } from './keys';
import { positionKeyParts } from './reservation';

export const SUPPLY_TYPES = ['ONHAND', 'INTRANSIT', 'PO_PLACED', 'PO_RELEASED', 'WIP', 'PLAN'] as const;

export type SupplyType = (typeof SUPPLY_TYPES)[number];

/** One supply position: an item at a node, in a segment, of a type, arriving at a time. */
export interface SupplyKey {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  readonly supplyType: SupplyType;
  /** Expected arrival in epoch milliseconds; `null` for ONHAND, which is already there. */
  readonly etaMs: number | null;
}

/** A supply position as stored. */
export interface Supply {
  readonly key: SupplyKey;
  readonly quantity: number;
  /** Source time of the last sync applied to the position, if any. */
  readonly lastSyncMs: number | null;
  readonly updateMs: number;
}

/** A string that identifies a position; positions are locked in the order of these strings. */
export function supplyKeyId(key: SupplyKey): string {
  return JSON.stringify([...positionKeyParts(key), key.supplyType, key.etaMs ?? 0]);
}
