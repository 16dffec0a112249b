import type { ItemKey, SegmentKey } from './keys';
import { positionKeyParts } from './reservation';

export const DEMAND_TYPES = ['OPEN_ORDER', 'SCHEDULED', 'ALLOCATED', 'BACKORDER', 'PLAN'] as const;

export type DemandType = (typeof DEMAND_TYPES)[number];

/** One demand position: an item at a node, in a segment, of a type, for an order (or none). */
export interface DemandKey {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  readonly demandType: DemandType;
  /** Empty for demand kept as one total. */
  readonly orderReference: string;
}

/** A demand position as stored. */
export interface Demand {
  readonly key: DemandKey;
  readonly quantity: number;
  readonly lastSyncMs: number | null;
  readonly updateMs: number;
}

/** A string that identifies a demand position; positions are locked in the order of these strings. */
export function demandKeyId(key: DemandKey): string {
  return JSON.stringify([...positionKeyParts(key), key.demandType, key.orderReference]);
}
