/**
 * Availability levels for watches in threshold mode: a position's available figure is LOW up to its low
 * threshold, HIGH from its high threshold, MEDIUM between; thresholds are set per item, or per item and node,
 * over a default.
 */

export type AvailabilityLevel = 'LOW' | 'MEDIUM' | 'HIGH';

export interface AvailabilityThresholds {
  /** The highest available figure that is LOW. */
  readonly lowAtMost: number;
  /** The lowest available figure that is HIGH; above `lowAtMost`. */
  readonly highAtLeast: number;
}

/** Thresholds for one item (every node when `nodeId` is empty), or one item at one node. */
export interface ThresholdOverride {
  readonly itemId: string;
  readonly nodeId: string;
  readonly thresholds: AvailabilityThresholds;
}

export function availabilityLevelOf(
  available: number,
  { lowAtMost, highAtLeast }: AvailabilityThresholds,
): AvailabilityLevel {
  if (available <= lowAtMost) return 'LOW';
  return available >= highAtLeast ? 'HIGH' : 'MEDIUM';
}

/** The thresholds that apply where: item and node, else item, else the default. */
export class ThresholdBook {
  private readonly overrides: ReadonlyMap<string, AvailabilityThresholds>;

  constructor(
    private readonly fallback: AvailabilityThresholds,
    overrides: readonly ThresholdOverride[],
  ) {
    this.overrides = new Map(overrides.map((o) => [overrideKey(o.itemId, o.nodeId), o.thresholds]));
  }

  thresholdsFor(itemId: string, nodeId: string): AvailabilityThresholds {
    return (
      this.overrides.get(overrideKey(itemId, nodeId)) ?? this.overrides.get(overrideKey(itemId, '')) ?? this.fallback
    );
  }

  levelAt(itemId: string, nodeId: string, available: number): AvailabilityLevel {
    return availabilityLevelOf(available, this.thresholdsFor(itemId, nodeId));
  }
}

/** Identifies an override's item and node (ids never hold a NUL). */
export function overrideKey(itemId: string, nodeId: string): string {
  return `${itemId}\u0000${nodeId}`;
}
