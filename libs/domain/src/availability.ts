import { availabilityOf, countsFromEta, SUPPLY_COUNTING, supplyNotCountedReason } from './counting';
import type { EffectiveSafetyStock } from './safety-stock';
import type { Supply } from './supply';

/**
 * Everything behind one node's availability for one item and segment. Demand and reservations are
 * totals the caller has already counted by the rules of `counting.ts` (counted demand types, holds that take).
 */
export interface NodeAvailabilityInputs {
  readonly nodeId: string;
  /** Every supply position of the item at the node in the segment. */
  readonly supplies: readonly Supply[];
  readonly countedDemand: number;
  readonly activeReservations: number;
  readonly safetyStock: EffectiveSafetyStock;
}

/** One supply position and whether it counts toward a figure. */
export interface SupplyContribution {
  readonly supply: Supply;
  readonly counted: boolean;
  /** Why it does not count; empty when it does. */
  readonly reason: string;
}

export interface NodeAvailability {
  readonly nodeId: string;
  /** What can be promised; never negative. */
  readonly available: number;
  /** What the floor at zero hid: commitments and safety stock that supply does not cover. */
  readonly shortage: number;
  readonly onhand: number;
  readonly futureSupply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly safetyStock: EffectiveSafetyStock;
  /** The explanation: every position, counted or not, and why. */
  readonly contributions: readonly SupplyContribution[];
}

/**
 * available = supply on hand + supply due by `asOfMs` - counted demand - active reservations - safety
 * stock, floored at zero, with the shortfall reported as shortage (see `counting.ts`).
 */
export function nodeAvailability(inputs: NodeAvailabilityInputs, asOfMs: number): NodeAvailability {
  let onhand = 0;
  let futureSupply = 0;
  const contributions = inputs.supplies.map((supply): SupplyContribution => {
    const reason = supplyNotCountedReason(supply.key, asOfMs);
    if (reason !== '') return { supply, counted: false, reason };
    if (SUPPLY_COUNTING[supply.key.supplyType] === 'AT_ONCE') onhand += supply.quantity;
    else futureSupply += supply.quantity;
    return { supply, counted: true, reason };
  });
  const { available, shortage } = availabilityOf({
    supply: onhand + futureSupply,
    demand: inputs.countedDemand,
    reserved: inputs.activeReservations,
    safetyStock: inputs.safetyStock.quantity,
  });
  return {
    nodeId: inputs.nodeId,
    available,
    shortage,
    onhand,
    futureSupply,
    demand: inputs.countedDemand,
    reserved: inputs.activeReservations,
    safetyStock: inputs.safetyStock,
    contributions,
  };
}

export interface NetworkAvailability {
  readonly available: number;
  readonly shortage: number;
  /** In the order the nodes were given (the group's priority order). */
  readonly nodes: readonly NodeAvailability[];
}

/**
 * A distribution group's availability is the sum of its nodes', each floored on its own: one node's
 * shortage does not eat into another node's stock.
 */
export function networkAvailability(nodes: readonly NodeAvailabilityInputs[], asOfMs: number): NetworkAvailability {
  const perNode = nodes.map((n) => nodeAvailability(n, asOfMs));
  return {
    available: sum(perNode.map((n) => n.available)),
    shortage: sum(perNode.map((n) => n.shortage)),
    nodes: perNode,
  };
}

export interface AvailabilityBucket {
  /** The ETA that opens the bucket. */
  readonly bucketMs: number;
  /** Counted supply arriving exactly at `bucketMs`. */
  readonly incoming: number;
  /** Available from `bucketMs` on. */
  readonly available: number;
  readonly shortage: number;
}

export interface AvailabilityByDate {
  readonly currentAvailable: number;
  readonly currentShortage: number;
  readonly buckets: readonly AvailabilityBucket[];
}

/**
 * Availability now, then at every distinct ETA after now up to and including the horizon. Each bucket is
 * cumulative: what can be promised for delivery at or after its time.
 */
export function availabilityByDate(
  nodes: readonly NodeAvailabilityInputs[],
  nowMs: number,
  horizonMs: number,
): AvailabilityByDate {
  const current = networkAvailability(nodes, nowMs);
  const incomingByEta = new Map<number, number>();
  for (const supply of nodes.flatMap((n) => n.supplies)) {
    const etaMs = countsFromEta(supply.key);
    if (etaMs === null || etaMs <= nowMs || etaMs > horizonMs) continue;
    incomingByEta.set(etaMs, (incomingByEta.get(etaMs) ?? 0) + supply.quantity);
  }
  const buckets = [...incomingByEta.keys()]
    .sort((a, b) => a - b)
    .map((bucketMs): AvailabilityBucket => {
      const atBucket = networkAvailability(nodes, bucketMs);
      return {
        bucketMs,
        incoming: incomingByEta.get(bucketMs) ?? 0,
        available: atBucket.available,
        shortage: atBucket.shortage,
      };
    });
  return { currentAvailable: current.available, currentShortage: current.shortage, buckets };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
