import { unitsBalance } from './testing/balances';
import {
  itemNodeFigures,
  loanOf,
  NO_CONSUMPTION_RULES,
  shareOf,
  type ConsumptionRules,
  type ItemNodeStock,
  type SegmentBorrowing,
} from './borrowing';
import { itemKey, UNSEGMENTED, type SegmentKey } from './keys';
import { planAllocations, positionKeyId, type PositionKey } from './reservation';
import { StockBalance, type KeptPosition } from './stock-balance';

const seg = (segment: string): SegmentKey => ({ segmentType: 'WEB', segment });
const STORE = seg('STORE');
const ONLINE = seg('ONLINE');
const MARKETPLACE = seg('MARKETPLACE');
const counts = (supply: number, demand = 0, reserved = 0) => ({ supply, demand, reserved });
const borrower = (segment: SegmentKey, limits: Partial<SegmentBorrowing> = {}): SegmentBorrowing => ({
  segment,
  mayBorrow: true,
  capQuantity: null,
  capRatioPpm: null,
  keepInPool: null,
  ...limits,
});
const rules = (...segments: SegmentBorrowing[]): ConsumptionRules => ({ version: 1, borrowingEnabled: true, segments });
const DESIGN_RULES = rules(borrower(STORE), borrower(ONLINE), { ...borrower(MARKETPLACE), mayBorrow: false });

/** DESIGN's worked example: 10 in each segment, 20 unsegmented at STORE_1. */
const designStock = (
  over: Partial<Record<'STORE' | 'ONLINE' | 'MARKETPLACE' | 'POOL', ReturnType<typeof counts>>> = {},
) =>
  ({
    pool: over.POOL ?? counts(20),
    safetyStock: 0,
    segments: [
      { segment: STORE, counts: over.STORE ?? counts(10), settledLoan: 0 },
      { segment: ONLINE, counts: over.ONLINE ?? counts(10), settledLoan: 0 },
      { segment: MARKETPLACE, counts: over.MARKETPLACE ?? counts(10), settledLoan: 0 },
    ],
  }) satisfies ItemNodeStock;

const available = (stock: ItemNodeStock, r: ConsumptionRules) => {
  const f = itemNodeFigures(stock, r);
  return [...f.segments.map((s) => s.available), f.pool.available];
};

describe('itemNodeFigures', () => {
  it("holds DESIGN's worked example: STORE 30, ONLINE 30, MARKETPLACE 10, unsegmented 20", () => {
    expect(available(designStock(), DESIGN_RULES)).toEqual([30, 30, 10, 20]);
  });

  it('shows a loan on the borrower, the pool and every other borrower', () => {
    // STORE holds 15: 10 of its own, 5 borrowed.
    const f = itemNodeFigures(designStock({ STORE: counts(10, 0, 15) }), DESIGN_RULES);
    expect(f.segments.map((s) => [s.ownAvailable, s.borrowed, s.borrowable, s.available])).toEqual([
      [0, 5, 15, 15],
      [10, 0, 15, 25],
      [10, 0, 0, 10],
    ]);
    expect(f.pool).toEqual({ free: 15, available: 15, shortage: 0, lent: 5 });
  });

  it('borrows nothing with the master switch off, or for a segment that may not borrow', () => {
    expect(available(designStock(), { ...DESIGN_RULES, borrowingEnabled: false })).toEqual([10, 10, 10, 20]);
    expect(available(designStock(), NO_CONSUMPTION_RULES)).toEqual([10, 10, 10, 20]);
    expect(itemNodeFigures(designStock(), DESIGN_RULES).segments[2]!.limitedBy).toBe('NOT_BORROWING');
  });

  it('limits borrowing by an absolute cap, a ratio of the pool supply and a floor, naming the tightest', () => {
    const limited = (limits: Partial<SegmentBorrowing>, store = counts(10, 0, 13)) =>
      itemNodeFigures(designStock({ STORE: store }), rules(borrower(STORE, limits), borrower(ONLINE))).segments[0]!;
    expect(limited({ capQuantity: 5 })).toMatchObject({ borrowed: 3, borrowable: 2, limitedBy: 'CAP_QUANTITY' });
    // 25% of the pool's 20 = 5.
    expect(limited({ capRatioPpm: 250_000 })).toMatchObject({ borrowable: 2, limitedBy: 'CAP_RATIO' });
    // The pool has 17 free; it may not be taken below 12.
    expect(limited({ keepInPool: 12 })).toMatchObject({ borrowable: 5, limitedBy: 'KEEP_IN_POOL' });
    expect(limited({ keepInPool: 30 })).toMatchObject({ borrowable: 0, available: 0 });
    expect(limited({ capQuantity: 100 })).toMatchObject({ borrowable: 17, limitedBy: 'POOL' });
    // A loan already over the cap leaves nothing to borrow, never a negative figure.
    expect(limited({ capQuantity: 2 })).toMatchObject({ borrowed: 3, borrowable: 0, available: 0 });
  });

  it('keeps counting a loan after borrowing is switched off, until the segment covers it', () => {
    const off = rules({ ...borrower(STORE), mayBorrow: false }, borrower(ONLINE));
    const stock = (store: ReturnType<typeof counts>, settledLoan: number): ItemNodeStock => ({
      ...designStock(),
      segments: [{ segment: STORE, counts: store, settledLoan }, designStock().segments[1]!],
    });
    expect(itemNodeFigures(stock(counts(10, 0, 15), 5), off).pool).toMatchObject({ lent: 5, available: 15 });
    // 3 units arrive: the loan shrinks to 2. Demand that then grows is a shortage, not a loan.
    expect(itemNodeFigures(stock(counts(13, 0, 15), 5), off).pool.lent).toBe(2);
    expect(itemNodeFigures(stock(counts(13, 4, 15), 2), off).segments[0]).toMatchObject({
      borrowed: 2,
      available: 0,
      shortage: 4,
    });
  });

  it('reports what supply decreases leave uncovered as shortage on the borrower and on the pool', () => {
    // STORE committed 40 against 5 of its own: a loan of 35 the pool's 20 cannot cover.
    const f = itemNodeFigures(designStock({ STORE: counts(5, 40) }), DESIGN_RULES);
    expect(f.pool).toMatchObject({ lent: 35, available: 0, shortage: 15 });
    expect(f.segments[0]).toMatchObject({ borrowed: 35, available: 0, shortage: 15 });
    expect(f.segments[1]).toMatchObject({ available: 10, borrowable: 0 });
  });

  it('counts safety stock once, on the pool', () => {
    const f = itemNodeFigures({ ...designStock(), safetyStock: 4 }, DESIGN_RULES);
    expect([...f.segments.map((s) => s.available), f.pool.available]).toEqual([26, 26, 10, 16]);
  });
});

describe('loanOf and shareOf', () => {
  it('settles a borrower at what it owes, and a former borrower never higher than before', () => {
    expect(loanOf(-5, 0, true)).toBe(5);
    expect(loanOf(3, 5, true)).toBe(0);
    expect(loanOf(-7, 5, false)).toBe(5);
    expect(loanOf(-2, 5, false)).toBe(2);
  });

  it('floors a share exactly, where floating point would not', () => {
    expect(shareOf(100, 290_000)).toBe(29);
    expect(0.29 * 100).toBeLessThan(29);
    expect(shareOf(9_000_000_000_123, 500_000)).toBe(4_500_000_000_061);
  });
});

describe('StockBalance', () => {
  const key = (segment: SegmentKey): PositionKey => ({ item: itemKey('A'), nodeId: 'STORE_1', segment });
  const kept = (supply: number, loan = 0): KeptPosition => ({
    supply,
    demand: 0,
    reserved: 0,
    loan,
    nodeSafetyStock: null,
    itemSafetyStock: null,
  });
  const designBalance = () =>
    StockBalance.of(
      [key(STORE)],
      new Map([
        [positionKeyId(key(UNSEGMENTED)), kept(20)],
        [positionKeyId(key(STORE)), kept(10)],
        [positionKeyId(key(ONLINE)), kept(10)],
        [positionKeyId(key(MARKETPLACE)), kept(10)],
      ]),
      DESIGN_RULES,
    );
  const line = (segment: SegmentKey, quantity: number) => ({
    lineIndex: 0,
    line: { item: itemKey('A'), location: { nodeId: 'STORE_1' }, segment, quantity, allowSplit: false },
    quantity,
    candidateNodes: ['STORE_1'],
    allowSplit: false,
  });

  it('lets a reservation borrow beyond its own, and settles the loan on the segment and the pool', () => {
    const balance = designBalance();
    planAllocations([line(STORE, 25)], balance);
    expect(balance.loanChanges()).toEqual([
      { key: key(STORE), delta: 15 },
      { key: key(UNSEGMENTED), delta: 15 },
    ]);
    expect(balance.free(positionKeyId(key(ONLINE)))).toBe(15);
    expect(balance.free(positionKeyId(key(UNSEGMENTED)))).toBe(5);
    expect(() => planAllocations([line(ONLINE, 16)], balance)).toThrow();
    planAllocations([line(ONLINE, 15)], balance);
    expect(balance.free(positionKeyId(key(UNSEGMENTED)))).toBe(0);
  });

  it('lets a segment with no position yet borrow, and one that may not borrow only take its own', () => {
    const balance = designBalance();
    const other = { ...key(STORE), nodeId: 'STORE_2' };
    expect(balance.free(positionKeyId(other))).toBe(0);
    expect(balance.free(positionKeyId(key(MARKETPLACE)))).toBe(10);
    const fresh = StockBalance.of([key(ONLINE)], new Map([[positionKeyId(key(UNSEGMENTED)), kept(20)]]), DESIGN_RULES);
    expect(fresh.free(positionKeyId(key(ONLINE)))).toBe(20);
  });

  it('plans units balances the same as before for positions that do not borrow', () => {
    const b = unitsBalance([[positionKeyId(key(UNSEGMENTED)), 3]]);
    expect(b.free(positionKeyId(key(UNSEGMENTED)))).toBe(3);
  });
});
