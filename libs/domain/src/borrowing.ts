import { isUnsegmented, type SegmentKey } from './keys';

/**
 * Borrowing from the unsegmented pool (the consumption rules). Loans are not records: per item and node, a
 * segment's commitments beyond its own supply are its loan from the pool. Each position keeps the loan it
 * was last settled at (`loan`): a segment's own for a segment position, the sum of its segments' loans for
 * the pool's position. A settled loan only shrinks as time passes (supply arrives, holds expire), so it is
 * an upper bound between settlements and the pool never lends more than it has.
 */

/** What one segment may borrow. A limit that is null does not limit. */
export interface SegmentBorrowing {
  readonly segment: SegmentKey;
  readonly mayBorrow: boolean;
  /** Most units the segment may owe the pool at an item and node. */
  readonly capQuantity: number | null;
  /** Most units it may owe, as a share of the pool's counted supply there, in millionths (500000 = half). */
  readonly capRatioPpm: number | null;
  /** Units the segment may not borrow the pool below (they stay there for the others). */
  readonly keepInPool: number | null;
}

/** The consumption rules: a master switch and, per segment, what it may borrow. Version 0: never set. */
export interface ConsumptionRules {
  readonly version: number;
  readonly borrowingEnabled: boolean;
  readonly segments: readonly SegmentBorrowing[];
}

export const NO_CONSUMPTION_RULES: ConsumptionRules = Object.freeze({
  version: 0,
  borrowingEnabled: false,
  segments: [],
});

export const PPM = 1_000_000;

/** The rules of a segment, if it has any. */
export function borrowingOf(rules: ConsumptionRules, segment: SegmentKey): SegmentBorrowing | undefined {
  return rules.segments.find(
    (s) => s.segment.segmentType === segment.segmentType && s.segment.segment === segment.segment,
  );
}

/** Whether a segment may take new loans now: the master switch is on and the segment may borrow. */
export function mayBorrowNow(rules: ConsumptionRules, segment: SegmentKey): boolean {
  return !isUnsegmented(segment) && rules.borrowingEnabled && (borrowingOf(rules, segment)?.mayBorrow ?? false);
}

/** Counted figures of one position: supply that counts, counted demand, units held. */
export interface PositionCounts {
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
}

/** What a segment position has of its own: counted supply less its commitments; negative when it owes. */
export function ownOf(c: PositionCounts): number {
  return c.supply - c.demand - c.reserved;
}

/**
 * A segment's loan as of now: what its commitments exceed its own supply by, for a segment that may
 * borrow; for one that may not (any more), what it still owes of the loan it had (`settled`), shrinking as
 * its own supply covers it, never growing: a shortfall it runs into without borrowing is its shortage.
 */
export function loanOf(own: number, settled: number, mayBorrow: boolean): number {
  const owed = Math.max(0, -own);
  return mayBorrow ? owed : Math.min(settled, owed);
}

/** One segment's position at an item and node, with the loan it was last settled at. */
export interface SegmentAtNode {
  readonly segment: SegmentKey;
  readonly counts: PositionCounts;
  readonly settledLoan: number;
}

/** Every position of an item at a node: the pool's and each segment's. */
export interface ItemNodeStock {
  readonly pool: PositionCounts;
  /** Safety stock withheld at the node (once, from the pool). */
  readonly safetyStock: number;
  readonly segments: readonly SegmentAtNode[];
}

/** What limits what a segment may still borrow. */
export type BorrowLimit =
  /** It may not borrow (not a borrowing segment, or the master switch is off). */
  | 'NOT_BORROWING'
  /** What the pool has free. */
  | 'POOL'
  /** Its keep_in_pool floor. */
  | 'KEEP_IN_POOL'
  /** Its absolute cap. */
  | 'CAP_QUANTITY'
  /** Its cap as a share of the pool's counted supply. */
  | 'CAP_RATIO';

export interface SegmentFigures {
  readonly segment: SegmentKey;
  /** Own supply less own commitments, floored at zero. */
  readonly ownAvailable: number;
  /** Its loan from the pool now. */
  readonly borrowed: number;
  /** What it may still take from the pool, after caps and floor. */
  readonly borrowable: number;
  readonly limitedBy: BorrowLimit;
  /** ownAvailable + borrowable. */
  readonly available: number;
  /** Commitments neither its supply nor a loan the pool can cover. */
  readonly shortage: number;
}

export interface PoolFigures {
  /** Pool supply less its commitments, the loans out and safety stock; negative when over-committed. */
  readonly free: number;
  readonly available: number;
  readonly shortage: number;
  /** The sum of the segments' loans. */
  readonly lent: number;
}

export interface ItemNodeFigures {
  readonly pool: PoolFigures;
  readonly segments: readonly SegmentFigures[];
}

/** One position's figures, the pool's or a segment's, in one shape. */
export interface PositionFigures {
  readonly ownAvailable: number;
  readonly borrowed: number;
  readonly borrowable: number;
  /** For the pool: the sum of the segments' loans; 0 for a segment. */
  readonly lent: number;
  readonly limitedBy: BorrowLimit;
  readonly available: number;
  readonly shortage: number;
}

/** The figures of the pool (an empty segment) or of one segment among an item-node's. */
export function figuresOf(figures: ItemNodeFigures, segment: SegmentKey): PositionFigures {
  if (isUnsegmented(segment)) {
    const { available, shortage, lent } = figures.pool;
    return {
      ownAvailable: available,
      borrowed: 0,
      borrowable: 0,
      lent,
      limitedBy: 'NOT_BORROWING',
      available,
      shortage,
    };
  }
  const s = figures.segments.find(
    (f) => f.segment.segmentType === segment.segmentType && f.segment.segment === segment.segment,
  );
  if (!s) throw new Error(`no figures for segment ${segment.segmentType}/${segment.segment}`);
  return { ...s, lent: 0 };
}

/**
 * The figures of every position of an item at a node (DESIGN, "Borrowing from the unsegmented pool"):
 * own(S) = supply(S) - commitments(S); loan(S) = max(0, -own(S)) while S may borrow;
 * pool_free = supply(U) - commitments(U) - sum of loans - safety stock(U);
 * borrowable(S) = max(0, min(cap - loan, floor(ratio x supply(U)) - loan, pool_free - keep_in_pool));
 * available(S) = max(0, own(S)) + borrowable(S); available(U) = max(0, pool_free).
 */
export function itemNodeFigures(stock: ItemNodeStock, rules: ConsumptionRules): ItemNodeFigures {
  const loans = stock.segments.map((s) => loanOf(ownOf(s.counts), s.settledLoan, mayBorrowNow(rules, s.segment)));
  const lent = loans.reduce((a, b) => a + b, 0);
  const free = ownOf(stock.pool) - lent - stock.safetyStock;
  // What the pool's supply cannot cover of its own commitments and the loans (safety stock aside).
  const uncovered = Math.max(0, -(ownOf(stock.pool) - lent));
  const pool: PoolFigures = { free, available: Math.max(0, free), shortage: Math.max(0, -free), lent };
  const segments = stock.segments.map((s, i): SegmentFigures => {
    const own = ownOf(s.counts);
    const loan = loans[i]!;
    const { borrowable, limitedBy } = borrowableOf(s.segment, loan, stock, free, rules);
    const ownAvailable = Math.max(0, own);
    return {
      segment: s.segment,
      ownAvailable,
      borrowed: loan,
      borrowable,
      limitedBy,
      available: ownAvailable + borrowable,
      shortage: Math.max(0, -own) - loan + Math.min(loan, uncovered),
    };
  });
  return { pool, segments };
}

function borrowableOf(
  segment: SegmentKey,
  loan: number,
  stock: ItemNodeStock,
  poolFree: number,
  rules: ConsumptionRules,
): { borrowable: number; limitedBy: BorrowLimit } {
  if (!mayBorrowNow(rules, segment)) return { borrowable: 0, limitedBy: 'NOT_BORROWING' };
  const b = borrowingOf(rules, segment)!;
  const limits: Array<[BorrowLimit, number]> = [['POOL', poolFree]];
  if (b.keepInPool !== null) limits.push(['KEEP_IN_POOL', poolFree - b.keepInPool]);
  if (b.capQuantity !== null) limits.push(['CAP_QUANTITY', b.capQuantity - loan]);
  if (b.capRatioPpm !== null) limits.push(['CAP_RATIO', shareOf(Math.max(0, stock.pool.supply), b.capRatioPpm) - loan]);
  // The tightest limit; on a tie the first named (the pool, then the floor, then the caps).
  const [limitedBy, room] = limits.reduce((tightest, l) => (l[1] < tightest[1] ? l : tightest));
  return { borrowable: Math.max(0, room), limitedBy };
}

/** floor(quantity x ppm / 1,000,000), exact for any quantity a position can hold. */
export function shareOf(quantity: number, ppm: number): number {
  return Math.floor(quantity / PPM) * ppm + Math.floor(((quantity % PPM) * ppm) / PPM);
}

/**
 * The loan each segment position is settled at after its counts changed: see {@link loanOf}. The pool's
 * position is settled at the sum of its segments' loans.
 */
export function settledLoans(stock: ItemNodeStock, rules: ConsumptionRules): { pool: number; segments: number[] } {
  const segments = stock.segments.map((s) => loanOf(ownOf(s.counts), s.settledLoan, mayBorrowNow(rules, s.segment)));
  return { pool: segments.reduce((a, b) => a + b, 0), segments };
}
