import { availabilityByDate, networkAvailability, nodeAvailability, type NodeAvailabilityInputs } from './availability';
import { NO_CONSUMPTION_RULES, type ConsumptionRules, type SegmentBorrowing } from './borrowing';
import { itemKey, UNSEGMENTED, type SegmentKey } from './keys';
import type { Supply, SupplyType } from './supply';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-29T12:00:00Z');
const ITEM = itemKey('SKU-1');

function supply(
  nodeId: string,
  supplyType: SupplyType,
  quantity: number,
  etaMs: number | null = null,
  segment: SegmentKey = UNSEGMENTED,
): Supply {
  return {
    key: { item: ITEM, nodeId, segment, supplyType, etaMs },
    quantity,
    lastSyncMs: null,
    updateMs: 0,
  };
}

/** The unsegmented pool alone at a node, asked about. */
function inputs(
  nodeId: string,
  supplies: Supply[],
  extra: {
    countedDemand?: number;
    activeReservations?: number;
    safetyStock?: NodeAvailabilityInputs['safetyStock'];
  } = {},
): NodeAvailabilityInputs {
  return {
    nodeId,
    segment: UNSEGMENTED,
    positions: [
      {
        segment: UNSEGMENTED,
        supplies,
        countedDemand: extra.countedDemand ?? 0,
        activeReservations: extra.activeReservations ?? 0,
        settledLoan: 0,
      },
    ],
    safetyStock: extra.safetyStock ?? { quantity: 0, level: 'NONE' },
    rules: NO_CONSUMPTION_RULES,
  };
}

describe('nodeAvailability', () => {
  it('counts ONHAND and future supply due by the time asked, never PLAN', () => {
    const result = nodeAvailability(
      inputs('DC1', [
        supply('DC1', 'ONHAND', 10),
        supply('DC1', 'INTRANSIT', 5, NOW + DAY),
        supply('DC1', 'PO_PLACED', 7, NOW + 3 * DAY),
        supply('DC1', 'PLAN', 100, NOW + DAY),
      ]),
      NOW + 2 * DAY,
    );
    expect(result).toMatchObject({ available: 15, shortage: 0, onhand: 10, futureSupply: 5 });
    expect(result.contributions.map((c) => [c.supply.key.supplyType, c.counted, c.reason])).toEqual([
      ['ONHAND', true, ''],
      ['INTRANSIT', true, ''],
      ['PO_PLACED', false, 'arrives after the time asked'],
      ['PLAN', false, 'PLAN supply never counts'],
    ]);
  });

  it('withholds demand, reservations and safety stock, floors at zero and reports the shortage', () => {
    const result = nodeAvailability(
      inputs('DC1', [supply('DC1', 'ONHAND', 10)], {
        countedDemand: 4,
        activeReservations: 5,
        safetyStock: { quantity: 3, level: 'ITEM' },
      }),
      NOW,
    );
    expect(result).toMatchObject({ available: 0, shortage: 2, demand: 4, reserved: 5 });
  });

  it('lets negative ONHAND (an adjust ahead of its sync) offset other supply', () => {
    const result = nodeAvailability(
      inputs('DC1', [supply('DC1', 'ONHAND', -1), supply('DC1', 'INTRANSIT', 5, NOW - DAY)]),
      NOW,
    );
    expect(result).toMatchObject({ available: 4, onhand: -1, futureSupply: 5 });
  });

  it('without consumption rules, the pool alone is its own figure: nothing lent, nothing borrowable', () => {
    const result = nodeAvailability(inputs('DC1', [supply('DC1', 'ONHAND', 10)]), NOW);
    expect(result).toMatchObject({
      available: 10,
      ownAvailable: 10,
      borrowable: 0,
      borrowed: 0,
      lent: 0,
      limitedBy: 'NOT_BORROWING',
      rulesVersion: 0,
      loans: [],
    });
  });
});

describe('nodeAvailability with segments borrowing from the pool', () => {
  const seg = (segment: string): SegmentKey => ({ segmentType: 'WEB', segment });
  const STORE = seg('STORE');
  const ONLINE = seg('ONLINE');
  const MARKETPLACE = seg('MARKETPLACE');
  const borrower = (segment: SegmentKey, limits: Partial<SegmentBorrowing> = {}): SegmentBorrowing => ({
    segment,
    mayBorrow: true,
    capQuantity: null,
    capRatioPpm: null,
    keepInPool: null,
    ...limits,
  });
  const rules = (...segments: SegmentBorrowing[]): ConsumptionRules => ({
    version: 3,
    borrowingEnabled: true,
    segments,
  });
  const DESIGN_RULES = rules(borrower(STORE), borrower(ONLINE), borrower(MARKETPLACE, { mayBorrow: false }));

  interface Position {
    supplies?: Supply[];
    demand?: number;
    reserved?: number;
    settledLoan?: number;
  }
  /** DESIGN's worked example at STORE_1 (ONHAND 10 in each segment, 20 unsegmented), with changes. */
  const designNode = (
    asked: SegmentKey,
    over: Partial<Record<'STORE' | 'ONLINE' | 'MARKETPLACE' | 'POOL', Position>> = {},
    r: ConsumptionRules = DESIGN_RULES,
    safetyStock = 0,
  ): NodeAvailabilityInputs => {
    const position = (segment: SegmentKey, name: keyof typeof over, onhand: number) => {
      const p = over[name] ?? {};
      return {
        segment,
        supplies: p.supplies ?? [supply('STORE_1', 'ONHAND', onhand, null, segment)],
        countedDemand: p.demand ?? 0,
        activeReservations: p.reserved ?? 0,
        settledLoan: p.settledLoan ?? 0,
      };
    };
    return {
      nodeId: 'STORE_1',
      segment: asked,
      positions: [
        position(UNSEGMENTED, 'POOL', 20),
        position(STORE, 'STORE', 10),
        position(ONLINE, 'ONLINE', 10),
        position(MARKETPLACE, 'MARKETPLACE', 10),
      ],
      safetyStock: { quantity: safetyStock, level: safetyStock > 0 ? 'ITEM' : 'NONE' },
      rules: r,
    };
  };
  const availableOf = (node: (asked: SegmentKey) => NodeAvailabilityInputs, asOfMs = NOW) =>
    [STORE, ONLINE, MARKETPLACE, UNSEGMENTED].map((s) => nodeAvailability(node(s), asOfMs).available);

  it("holds DESIGN's worked example: STORE 30, ONLINE 30, MARKETPLACE 10, unsegmented 20", () => {
    expect(availableOf((s) => designNode(s))).toEqual([30, 30, 10, 20]);
    expect(nodeAvailability(designNode(STORE), NOW)).toMatchObject({
      ownAvailable: 10,
      borrowable: 20,
      borrowed: 0,
      lent: 0,
      limitedBy: 'POOL',
      rulesVersion: 3,
      onhand: 10,
      safetyStock: { quantity: 0, level: 'NONE' },
    });
    expect(nodeAvailability(designNode(MARKETPLACE), NOW)).toMatchObject({ borrowable: 0, limitedBy: 'NOT_BORROWING' });
  });

  it('shows a loan on the borrower and on the pool, and less for every other borrower', () => {
    const node = (s: SegmentKey) => designNode(s, { STORE: { reserved: 15 } });
    expect(nodeAvailability(node(STORE), NOW)).toMatchObject({
      available: 15,
      ownAvailable: 0,
      borrowed: 5,
      borrowable: 15,
      loans: [{ segment: STORE, quantity: 5 }],
    });
    expect(nodeAvailability(node(ONLINE), NOW)).toMatchObject({ available: 25, borrowable: 15, loans: [] });
    expect(nodeAvailability(node(UNSEGMENTED), NOW)).toMatchObject({
      available: 15,
      ownAvailable: 15,
      lent: 5,
      loans: [{ segment: STORE, quantity: 5 }],
      borrowing: { poolSupply: 20, poolFree: 15 },
    });
  });

  it('lends to a segment that has no position at the node yet', () => {
    const node = designNode(seg('KIOSK'), {}, rules(borrower(seg('KIOSK'))));
    expect(nodeAvailability(node, NOW)).toMatchObject({ available: 20, ownAvailable: 0, borrowable: 20 });
  });

  it('works the borrowing out again as of a later time: a future ETA in the pool makes more borrowable', () => {
    const node = (s: SegmentKey) =>
      designNode(s, {
        POOL: { supplies: [supply('STORE_1', 'ONHAND', 20), supply('STORE_1', 'INTRANSIT', 8, NOW + 2 * DAY)] },
      });
    expect(nodeAvailability(node(STORE), NOW)).toMatchObject({ available: 30, borrowable: 20 });
    expect(nodeAvailability(node(STORE), NOW + 3 * DAY)).toMatchObject({ available: 38, borrowable: 28 });

    const byDate = availabilityByDate([node(STORE)], NOW, NOW + 5 * DAY);
    expect(byDate.current).toMatchObject({ available: 30, ownAvailable: 10, borrowable: 20 });
    // The pool's supply opens a bucket for STORE though none of STORE's own arrives.
    expect(byDate.buckets).toEqual([
      {
        bucketMs: NOW + 2 * DAY,
        incoming: 0,
        available: 38,
        shortage: 0,
        ownAvailable: 10,
        borrowable: 28,
        borrowed: 0,
        lent: 0,
      },
    ]);
    expect(byDate.rulesVersion).toBe(3);
    // MARKETPLACE may not borrow: the pool's supply changes nothing for it, so no bucket opens.
    expect(availabilityByDate([node(MARKETPLACE)], NOW, NOW + 5 * DAY).buckets).toEqual([]);
  });

  it("opens a bucket for the pool where a segment's arriving supply repays its loan", () => {
    const node = (s: SegmentKey) =>
      designNode(s, {
        STORE: {
          supplies: [supply('STORE_1', 'ONHAND', 10, null, STORE), supply('STORE_1', 'PO_PLACED', 3, NOW + DAY, STORE)],
          demand: 15,
        },
      });
    const byDate = availabilityByDate([node(UNSEGMENTED)], NOW, NOW + 5 * DAY);
    expect(byDate.current).toMatchObject({ available: 15, lent: 5 });
    expect(byDate.buckets.map((b) => [b.bucketMs, b.incoming, b.available, b.lent])).toEqual([[NOW + DAY, 0, 18, 2]]);
  });

  it('keeps counting loans after borrowing is switched off, until the segment covers them', () => {
    const off: ConsumptionRules = { ...DESIGN_RULES, version: 4, borrowingEnabled: false };
    const node = (s: SegmentKey, settledLoan: number, onhand = 10) =>
      designNode(
        s,
        { STORE: { supplies: [supply('STORE_1', 'ONHAND', onhand, null, STORE)], reserved: 15, settledLoan } },
        off,
      );
    expect(nodeAvailability(node(UNSEGMENTED, 5), NOW)).toMatchObject({ available: 15, lent: 5, rulesVersion: 4 });
    expect(nodeAvailability(node(STORE, 5), NOW)).toMatchObject({
      available: 0,
      borrowed: 5,
      borrowable: 0,
      limitedBy: 'NOT_BORROWING',
      shortage: 0,
    });
    // 3 units arrive in STORE: it owes 2.
    expect(nodeAvailability(node(UNSEGMENTED, 5, 13), NOW)).toMatchObject({ available: 18, lent: 2 });
    // A loan it never took stays its own shortage, off the pool.
    expect(nodeAvailability(node(UNSEGMENTED, 0), NOW)).toMatchObject({ available: 20, lent: 0, loans: [] });
    expect(nodeAvailability(node(STORE, 0), NOW)).toMatchObject({ available: 0, borrowed: 0, shortage: 5 });
    // ONLINE may not take a new loan either.
    expect(nodeAvailability(node(ONLINE, 5), NOW)).toMatchObject({ available: 10, borrowable: 0 });
  });

  it('limits what may be borrowed by caps and a floor, with their values in the terms', () => {
    const limited = (limits: Partial<SegmentBorrowing>) =>
      nodeAvailability(designNode(STORE, { STORE: { reserved: 13 } }, rules(borrower(STORE, limits))), NOW);
    expect(limited({ capQuantity: 5 })).toMatchObject({
      borrowed: 3,
      borrowable: 2,
      available: 2,
      limitedBy: 'CAP_QUANTITY',
      borrowing: { rule: { capQuantity: 5 }, capRatioQuantity: null },
    });
    // 25% of the pool's 20 = 5.
    expect(limited({ capRatioPpm: 250_000 })).toMatchObject({
      borrowable: 2,
      limitedBy: 'CAP_RATIO',
      borrowing: { capRatioQuantity: 5, poolSupply: 20 },
    });
    // The pool has 17 free; STORE may not take it below 12.
    expect(limited({ keepInPool: 12 })).toMatchObject({
      borrowable: 5,
      limitedBy: 'KEEP_IN_POOL',
      borrowing: { poolFree: 17, rule: { keepInPool: 12 } },
    });
    expect(limited({ keepInPool: 30 })).toMatchObject({ borrowable: 0, available: 0 });
  });

  it('withholds safety stock once, on the pool, which bounds what segments may borrow', () => {
    expect(availableOf((s) => designNode(s, {}, DESIGN_RULES, 4))).toEqual([26, 26, 10, 16]);
    const store = nodeAvailability(designNode(STORE, {}, DESIGN_RULES, 4), NOW);
    expect(store).toMatchObject({ safetyStock: { quantity: 0 }, borrowing: { poolSafetyStock: 4, poolFree: 16 } });
    expect(nodeAvailability(designNode(UNSEGMENTED, {}, DESIGN_RULES, 4), NOW).safetyStock.quantity).toBe(4);
  });

  it('sums the breakdown over the nodes of a group, each node lending only to its own segments', () => {
    const other: NodeAvailabilityInputs = { ...inputs('STORE_2', []), segment: STORE, rules: DESIGN_RULES };
    const result = networkAvailability([designNode(STORE, { STORE: { reserved: 15 } }), other], NOW);
    expect(result).toMatchObject({ available: 15, ownAvailable: 0, borrowable: 15, borrowed: 5, lent: 0 });
    expect(result.nodes[1]).toMatchObject({ available: 0, borrowable: 0, limitedBy: 'POOL' });
    const pools = networkAvailability(
      [
        designNode(UNSEGMENTED, { STORE: { reserved: 15 } }),
        { ...inputs('STORE_2', [supply('STORE_2', 'ONHAND', 4)]) },
      ],
      NOW,
    );
    expect(pools).toMatchObject({ available: 19, ownAvailable: 19, lent: 5 });
  });
});

describe('networkAvailability', () => {
  it('sums the nodes, each floored on its own', () => {
    const result = networkAvailability(
      [
        inputs('DC1', [supply('DC1', 'ONHAND', 10)]),
        inputs('DC2', [supply('DC2', 'ONHAND', 2)], { safetyStock: { quantity: 5, level: 'ITEM_NODE' } }),
      ],
      NOW,
    );
    expect(result.available).toBe(10);
    expect(result.shortage).toBe(3);
    expect(result.nodes.map((n) => n.nodeId)).toEqual(['DC1', 'DC2']);
  });
});

describe('availabilityByDate', () => {
  it('reports now, then one cumulative bucket per ETA up to the horizon', () => {
    const result = availabilityByDate(
      [
        inputs(
          'DC1',
          [
            supply('DC1', 'ONHAND', 4),
            supply('DC1', 'INTRANSIT', 5, NOW + DAY),
            supply('DC1', 'PLAN', 50, NOW + DAY),
            supply('DC1', 'PO_PLACED', 7, NOW + 10 * DAY),
          ],
          { safetyStock: { quantity: 6, level: 'ITEM' } },
        ),
        inputs('DC2', [supply('DC2', 'WIP', 1, NOW + DAY)]),
      ],
      NOW,
      NOW + 5 * DAY,
    );
    expect(result).toEqual({
      current: { available: 0, shortage: 2, ownAvailable: 0, borrowable: 0, borrowed: 0, lent: 0 },
      rulesVersion: 0,
      buckets: [
        {
          bucketMs: NOW + DAY,
          incoming: 6,
          available: 4,
          shortage: 0,
          ownAvailable: 4,
          borrowable: 0,
          borrowed: 0,
          lent: 0,
        },
      ],
    });
  });
});
