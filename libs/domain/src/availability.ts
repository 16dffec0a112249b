import {
  borrowingOf,
  itemNodeFigures,
  shareOf,
  type BorrowLimit,
  type ConsumptionRules,
  type ItemNodeFigures,
  type ItemNodeStock,
  type PositionCounts,
  type SegmentBorrowing,
} from './borrowing';
import { countsFromEta, SUPPLY_COUNTING, supplyNotCountedReason, withholdsSafetyStock } from './counting';
import { isUnsegmented, UNSEGMENTED, type SegmentKey } from './keys';
import type { EffectiveSafetyStock } from './safety-stock';
import type { Supply } from './supply';

/**
 * One position of an item at a node (the unsegmented pool or a segment): its supply and its commitments.
 * Demand and reservations are totals the caller has already counted by the rules of `counting.ts` (counted
 * demand types, holds that take now); which supply counts depends on the time asked, so every row is here.
 */
export interface PositionInputs {
  readonly segment: SegmentKey;
  /** Every supply row of the position, counted or not. */
  readonly supplies: readonly Supply[];
  readonly countedDemand: number;
  readonly activeReservations: number;
  /** The loan the position was last settled at: for a segment, what it owed the pool; 0 where none. */
  readonly settledLoan: number;
}

/**
 * Everything behind one node's availability for one item and segment. Segments borrow from the pool at the
 * same node, so the figure of any position needs every position there: the pool's and each segment's.
 */
export interface NodeAvailabilityInputs {
  readonly nodeId: string;
  /** The position asked about: the unsegmented pool or a segment. */
  readonly segment: SegmentKey;
  /** Every position of the item at the node; one that is absent is empty. */
  readonly positions: readonly PositionInputs[];
  /** Safety stock at the node: withheld once, from the pool. */
  readonly safetyStock: EffectiveSafetyStock;
  readonly rules: ConsumptionRules;
}

/** One supply position and whether it counts toward a figure. */
export interface SupplyContribution {
  readonly supply: Supply;
  readonly counted: boolean;
  /** Why it does not count; empty when it does. */
  readonly reason: string;
}

/** The figures of a position, or their sum over the nodes of a group. */
export interface AvailabilityFigures {
  /** What can be promised: ownAvailable + borrowable; never negative. */
  readonly available: number;
  /** What the floors hid: commitments and safety stock that supply (and, for a segment, loans) do not cover. */
  readonly shortage: number;
  /** What the position has of its own, floored at zero (for the pool: after the loans out and safety stock). */
  readonly ownAvailable: number;
  /** What a segment may still take from the pool; 0 for the pool. */
  readonly borrowable: number;
  /** A segment's loan from the pool; 0 for the pool. */
  readonly borrowed: number;
  /** For the pool, the sum of the segments' loans; 0 for a segment. */
  readonly lent: number;
}

/** What a segment owes the pool at a node. */
export interface Loan {
  readonly segment: SegmentKey;
  readonly quantity: number;
}

/** The borrowing rules in force for a position, and the pool figures they were applied to. */
export interface BorrowingTerms {
  readonly rulesVersion: number;
  readonly borrowingEnabled: boolean;
  /** The segment's rule, where it has one (never for the pool). */
  readonly rule: SegmentBorrowing | null;
  /** The ratio cap in units at the node; null without a ratio cap. */
  readonly capRatioQuantity: number | null;
  /** The pool's counted supply at the node. */
  readonly poolSupply: number;
  /** The pool's free units: supply less commitments, loans out and safety stock; negative when over-committed. */
  readonly poolFree: number;
  /** Safety stock withheld at the node, on the pool. */
  readonly poolSafetyStock: number;
}

export interface NodeAvailability extends AvailabilityFigures {
  readonly nodeId: string;
  readonly segment: SegmentKey;
  readonly onhand: number;
  readonly futureSupply: number;
  readonly demand: number;
  readonly reserved: number;
  /** Safety stock withheld in the position: the node's for the pool, none for a segment. */
  readonly safetyStock: EffectiveSafetyStock;
  /** What bounds `borrowable`. */
  readonly limitedBy: BorrowLimit;
  readonly rulesVersion: number;
  /** The explanation: every supply position, counted or not, and why. */
  readonly contributions: readonly SupplyContribution[];
  /** For the pool, each segment's loan at the node; for a segment, its own if it has one. */
  readonly loans: readonly Loan[];
  readonly borrowing: BorrowingTerms;
}

const NO_SAFETY_STOCK: EffectiveSafetyStock = Object.freeze({ quantity: 0, level: 'NONE' });

/**
 * A position's figure as of `asOfMs` (supply due by then; commitments as given), with what it borrows from
 * or lends to the other positions at the node by the consumption rules (`itemNodeFigures`): for a segment
 * available = max(0, own) + borrowable; for the pool available = max(0, pool free).
 */
export function nodeAvailability(inputs: NodeAvailabilityInputs, asOfMs: number): NodeAvailability {
  const asked = positionOf(inputs, inputs.segment);
  let onhand = 0;
  let futureSupply = 0;
  const contributions = asked.supplies.map((supply): SupplyContribution => {
    const reason = supplyNotCountedReason(supply.key, asOfMs);
    if (reason !== '') return { supply, counted: false, reason };
    if (SUPPLY_COUNTING[supply.key.supplyType] === 'AT_ONCE') onhand += supply.quantity;
    else futureSupply += supply.quantity;
    return { supply, counted: true, reason };
  });
  const stock = itemNodeStockAsOf(inputs, asOfMs);
  const figures = itemNodeFigures(stock, inputs.rules);
  const allLoans = figures.segments
    .filter((s) => s.borrowed > 0)
    .map((s): Loan => ({ segment: s.segment, quantity: s.borrowed }));
  const isPool = isUnsegmented(inputs.segment);
  const figure = isPool ? poolFigure(figures) : segmentFigure(figures, inputs.segment);
  const rule = isPool ? undefined : borrowingOf(inputs.rules, inputs.segment);
  const capRatioPpm = rule?.capRatioPpm ?? null;
  return {
    nodeId: inputs.nodeId,
    segment: inputs.segment,
    ...figure,
    onhand,
    futureSupply,
    demand: asked.countedDemand,
    reserved: asked.activeReservations,
    safetyStock: withholdsSafetyStock(inputs.segment) ? inputs.safetyStock : NO_SAFETY_STOCK,
    rulesVersion: inputs.rules.version,
    contributions,
    loans: isPool ? allLoans : allLoans.filter((l) => sameSegment(l.segment, inputs.segment)),
    borrowing: {
      rulesVersion: inputs.rules.version,
      borrowingEnabled: inputs.rules.borrowingEnabled,
      rule: rule ?? null,
      capRatioQuantity: capRatioPpm === null ? null : shareOf(Math.max(0, stock.pool.supply), capRatioPpm),
      poolSupply: stock.pool.supply,
      poolFree: figures.pool.free,
      poolSafetyStock: stock.safetyStock,
    },
  };
}

/** Every position's counts as of `asOfMs`; the segment asked about is there even if it has no rows. */
function itemNodeStockAsOf(inputs: NodeAvailabilityInputs, asOfMs: number): ItemNodeStock {
  const countsOf = (p: PositionInputs): PositionCounts => ({
    supply: countedSupply(p.supplies, asOfMs),
    demand: p.countedDemand,
    reserved: p.activeReservations,
  });
  const segments = inputs.positions.filter((p) => !isUnsegmented(p.segment));
  if (!isUnsegmented(inputs.segment) && !segments.some((p) => sameSegment(p.segment, inputs.segment)))
    segments.push(emptyPosition(inputs.segment));
  return {
    pool: countsOf(positionOf(inputs, UNSEGMENTED)),
    safetyStock: inputs.safetyStock.quantity,
    segments: segments.map((p) => ({ segment: p.segment, counts: countsOf(p), settledLoan: p.settledLoan })),
  };
}

function poolFigure(figures: ItemNodeFigures): AvailabilityFigures & { limitedBy: BorrowLimit } {
  const { pool } = figures;
  return {
    available: pool.available,
    shortage: pool.shortage,
    ownAvailable: pool.available,
    borrowable: 0,
    borrowed: 0,
    lent: pool.lent,
    limitedBy: 'NOT_BORROWING',
  };
}

function segmentFigure(
  figures: ItemNodeFigures,
  segment: SegmentKey,
): AvailabilityFigures & { limitedBy: BorrowLimit } {
  const s = figures.segments.find((f) => sameSegment(f.segment, segment))!;
  return {
    available: s.available,
    shortage: s.shortage,
    ownAvailable: s.ownAvailable,
    borrowable: s.borrowable,
    borrowed: s.borrowed,
    lent: 0,
    limitedBy: s.limitedBy,
  };
}

function countedSupply(supplies: readonly Supply[], asOfMs: number): number {
  return sum(supplies.filter((s) => supplyNotCountedReason(s.key, asOfMs) === '').map((s) => s.quantity));
}

function positionOf(inputs: NodeAvailabilityInputs, segment: SegmentKey): PositionInputs {
  return inputs.positions.find((p) => sameSegment(p.segment, segment)) ?? emptyPosition(segment);
}

function emptyPosition(segment: SegmentKey): PositionInputs {
  return { segment, supplies: [], countedDemand: 0, activeReservations: 0, settledLoan: 0 };
}

function sameSegment(a: SegmentKey, b: SegmentKey): boolean {
  return a.segmentType === b.segmentType && a.segment === b.segment;
}

export interface NetworkAvailability extends AvailabilityFigures {
  readonly rulesVersion: number;
  /** In the order the nodes were given (the group's priority order). */
  readonly nodes: readonly NodeAvailability[];
}

/**
 * A distribution group's availability is the sum of its nodes', each floored on its own: one node's
 * shortage does not eat into another node's stock, and a segment borrows only from the pool at its node.
 */
export function networkAvailability(nodes: readonly NodeAvailabilityInputs[], asOfMs: number): NetworkAvailability {
  const perNode = nodes.map((n) => nodeAvailability(n, asOfMs));
  return { ...sumFigures(perNode), rulesVersion: rulesVersionOf(nodes), nodes: perNode };
}

export interface AvailabilityBucket extends AvailabilityFigures {
  /** The ETA that opens the bucket. */
  readonly bucketMs: number;
  /** The position's own counted supply arriving exactly at `bucketMs`. */
  readonly incoming: number;
}

export interface AvailabilityByDate {
  /** The figures now. */
  readonly current: AvailabilityFigures;
  readonly rulesVersion: number;
  readonly buckets: readonly AvailabilityBucket[];
}

/**
 * Availability now, then at ETAs after now up to and including the horizon: every distinct ETA of the asked
 * position's supply, and every ETA of other supply at its nodes (the pool's, or a borrowing segment's) that
 * changes the figure. Each bucket is cumulative: what can be promised for delivery at or after its time,
 * with the borrowing worked out again at that time.
 */
export function availabilityByDate(
  nodes: readonly NodeAvailabilityInputs[],
  nowMs: number,
  horizonMs: number,
): AvailabilityByDate {
  const current = networkAvailability(nodes, nowMs);
  const etas = new Set<number>();
  const incomingByEta = new Map<number, number>();
  for (const node of nodes) {
    for (const position of node.positions) {
      for (const supply of position.supplies) {
        const etaMs = countsFromEta(supply.key);
        if (etaMs === null || etaMs <= nowMs || etaMs > horizonMs) continue;
        etas.add(etaMs);
        if (sameSegment(position.segment, node.segment))
          incomingByEta.set(etaMs, (incomingByEta.get(etaMs) ?? 0) + supply.quantity);
      }
    }
  }
  const buckets: AvailabilityBucket[] = [];
  let previous: AvailabilityFigures = current;
  for (const bucketMs of [...etas].sort((a, b) => a - b)) {
    const atBucket = sumFigures(networkAvailability(nodes, bucketMs).nodes);
    if (incomingByEta.has(bucketMs) || !sameFigures(atBucket, previous))
      buckets.push({ bucketMs, incoming: incomingByEta.get(bucketMs) ?? 0, ...atBucket });
    previous = atBucket;
  }
  return { current: sumFigures(current.nodes), rulesVersion: current.rulesVersion, buckets };
}

const FIGURES = ['available', 'shortage', 'ownAvailable', 'borrowable', 'borrowed', 'lent'] as const;

function sumFigures(figures: readonly AvailabilityFigures[]): AvailabilityFigures {
  return Object.fromEntries(FIGURES.map((f) => [f, sum(figures.map((n) => n[f]))])) as Record<
    (typeof FIGURES)[number],
    number
  >;
}

function sameFigures(a: AvailabilityFigures, b: AvailabilityFigures): boolean {
  return FIGURES.every((f) => a[f] === b[f]);
}

/** The rules every node's figure used (one read serves them all). */
function rulesVersionOf(nodes: readonly NodeAvailabilityInputs[]): number {
  return Math.max(0, ...nodes.map((n) => n.rules.version));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
