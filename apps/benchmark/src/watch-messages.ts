/**
 * The watch scenario's positions and messages: its items at one node, the WatchAvailability request of a
 * watcher, and the WatchAvailabilityResponse-sized messages the bare fan-out baseline sends.
 */
import {
  WatchAvailabilityResponse,
  WatchMode,
  type PositionAvailabilityChanged,
  type WatchAvailabilityRequest,
} from '@inventory/contracts';

/** The one node the scenario's items are at. */
export const WATCH_NODE = 'WATCH_NODE';

/**
 * Supply every item starts with. Each change adds one unit, so a position's supply is this plus the
 * changes of its item so far; it stays a 2-byte varint (128 to 16,383) for any run of sensible length, so
 * the baseline's messages keep one size.
 */
export const WATCH_SEED_SUPPLY = 1000;

/** The resume token length of the baseline's messages when the service's own size is not known. */
const SAMPLE_RESUME_TOKEN_CHARS = 32;

/** A typical stream sequence: what the baseline's messages carry where the service's carry a real one. */
const SAMPLE_SEQUENCE = 123_456;

/** The scenario's item of index `item`, e.g. WATCH_ITEM_007. */
export function watchItemId(item: number): string {
  return `WATCH_ITEM_${String(item).padStart(3, '0')}`;
}

/** A watcher's request: one item at the scenario's node, every change (no thresholds), from a snapshot. */
export function watchRequest(item: number): WatchAvailabilityRequest {
  return {
    itemIds: [watchItemId(item)],
    nodeIds: [WATCH_NODE],
    distributionGroupId: '',
    segments: [],
    mode: WatchMode.WATCH_MODE_CHANGES,
    defaultThresholds: undefined,
    thresholdOverrides: [],
    resumeToken: '',
  };
}

/** The figures of an unsegmented position with `supply` units and no demand or holds. */
function positionWith(item: number, supply: number): PositionAvailabilityChanged {
  return {
    item: { itemId: watchItemId(item), unitOfMeasure: '', productClass: '' },
    nodeId: WATCH_NODE,
    segment: { segmentType: '', segment: '' },
    supplyQuantity: supply,
    demandQuantity: 0,
    reservedQuantity: 0,
    safetyStockQuantity: 0,
    available: supply,
    shortage: 0,
    ownAvailable: supply,
    borrowable: 0,
    borrowed: 0,
    lent: 0,
    consumptionRulesVersion: 0,
  };
}

/** A change message carrying one update of `item` at `supply`, with a resume token of `tokenChars`. */
function changeMessage(item: number, supply: number, tokenChars: number): WatchAvailabilityResponse {
  return {
    updates: [
      {
        position: positionWith(item, supply),
        sequence: SAMPLE_SEQUENCE,
        level: 0,
        previousLevel: 0,
      },
    ],
    snapshot: false,
    snapshotComplete: false,
    resumeToken: 'r'.repeat(tokenChars),
    sequence: SAMPLE_SEQUENCE,
  };
}

/**
 * Builds the baseline's change messages: one update of an item at a supply, encoded at `targetBytes`
 * (the service's measured size, when known) by the length of its resume token; without a target, with a
 * 32-character token.
 */
export class FanoutMessages {
  /** The resume token length that gives the target size. */
  private readonly tokenChars: number;

  constructor(targetBytes?: number) {
    const size = (chars: number) => encodedSize(changeMessage(0, WATCH_SEED_SUPPLY, chars));
    let chars = SAMPLE_RESUME_TOKEN_CHARS;
    if (targetBytes !== undefined) {
      // The closest size at or below the target (a length prefix grows by a byte at 128 characters).
      chars = 0;
      while (chars < 4096 && size(chars + 1) <= targetBytes) chars++;
    }
    this.tokenChars = chars;
  }

  /** Encoded size of every change message (the supply is always a 2-byte varint). */
  get bytes(): number {
    return encodedSize(changeMessage(0, WATCH_SEED_SUPPLY, this.tokenChars));
  }

  /** The change message of `item` at `supply`. */
  change(item: number, supply: number): Uint8Array {
    return WatchAvailabilityResponse.encode(changeMessage(item, supply, this.tokenChars)).finish();
  }
}

/** The snapshot a watch of `item` starts with: its position at the seeded supply, in one complete message. */
export function snapshotMessage(item: number): Uint8Array {
  return WatchAvailabilityResponse.encode({
    updates: [{ position: positionWith(item, WATCH_SEED_SUPPLY), sequence: 0, level: 0, previousLevel: 0 }],
    snapshot: true,
    snapshotComplete: true,
    resumeToken: 'r'.repeat(SAMPLE_RESUME_TOKEN_CHARS),
    sequence: SAMPLE_SEQUENCE,
  }).finish();
}

/** The encoded size of `message`: what it takes on the wire (before gRPC's 5-byte frame header). */
export function encodedSize(message: WatchAvailabilityResponse): number {
  return WatchAvailabilityResponse.encode(message).finish().length;
}

/** The supply of the position of `item` at the scenario's node in the pool that `message` updates, if any. */
export function watchedSupply(message: WatchAvailabilityResponse, itemId: string): number | undefined {
  let supply: number | undefined;
  for (const { position } of message.updates) {
    if (
      position?.item?.itemId === itemId &&
      position.nodeId === WATCH_NODE &&
      !position.segment?.segmentType &&
      !position.segment?.segment
    )
      supply = position.supplyQuantity;
  }
  return supply;
}
