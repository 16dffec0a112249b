import * as pb from '@inventory/contracts';
import { MAX_TIME_MS, type SegmentBorrowing, type SegmentKey } from '@inventory/domain';
import { insertConsumptionRules } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import type { Knex } from 'knex';
import { startTestService, type TestService } from './testing/harness';
import { createNodes, item, onhand } from './testing/stock';

const DAY = 86_400_000;
const STORE: SegmentKey = { segmentType: 'WEB', segment: 'STORE' };
const ONLINE: SegmentKey = { segmentType: 'WEB', segment: 'ONLINE' };
const borrower = (segment: SegmentKey, mayBorrow = true): SegmentBorrowing => ({
  segment,
  mayBorrow,
  capQuantity: null,
  capRatioPpm: null,
  keepInPool: null,
});

/**
 * Segment stock is written straight into the tables, as the writes that will keep it (segment definitions,
 * loans settled by reservations and syncs) come in other changes: a segment's supply and demand rows, and its
 * stock position with the loan it was last settled at, the pool's position carrying the sum.
 */
interface SegmentStock {
  readonly itemId: string;
  readonly nodeId: string;
  readonly segment: SegmentKey;
  readonly onhand: number;
  /** Supply due later: quantity and ETA. */
  readonly incoming?: { readonly quantity: number; readonly etaMs: number };
  readonly demand: number;
  /** Units of a hold that takes, and of one past its expiry (which does not). */
  readonly held?: number;
  readonly expiredHeld?: number;
  readonly loan: number;
}

async function seedSegment(db: Knex, s: SegmentStock, nowMs: number): Promise<void> {
  const key = {
    item_id: s.itemId,
    unit_of_measure: 'EACH',
    product_class: '',
    node_id: s.nodeId,
    segment_type: s.segment.segmentType,
    segment: s.segment.segment,
  };
  const quantity = { last_sync_ms: null, updated_ms: nowMs };
  await db('supply').insert({ ...key, ...quantity, supply_type: 'ONHAND', eta_ms: 0, quantity: s.onhand });
  if (s.incoming)
    await db('supply').insert({
      ...key,
      ...quantity,
      supply_type: 'PO_PLACED',
      eta_ms: s.incoming.etaMs,
      quantity: s.incoming.quantity,
    });
  await db('demand').insert({
    ...key,
    ...quantity,
    demand_type: 'OPEN_ORDER',
    order_reference: '',
    quantity: s.demand,
  });
  await db('stock_positions').insert({
    ...key,
    supply: s.onhand,
    demand: s.demand,
    reserved: (s.held ?? 0) + (s.expiredHeld ?? 0),
    loan: s.loan,
    next_eta_ms: s.incoming?.etaMs ?? MAX_TIME_MS,
  });
  const pool = { ...key, segment_type: '', segment: '' };
  await db('stock_positions').where(pool).increment('loan', s.loan);
  const position = await db('stock_positions').where(key).first('position_id');
  for (const [suffix, units, expireMs] of [
    ['held', s.held ?? 0, nowMs + DAY],
    ['expired', s.expiredHeld ?? 0, nowMs - DAY],
  ] as const) {
    if (units === 0) continue;
    const reservationId = `${s.itemId}-${s.segment.segment}-${suffix}`;
    await db('reservations').insert({
      reservation_id: reservationId,
      state: 'ACTIVE',
      expire_ms: expireMs,
      lines: '[]',
      request_hash: '',
      first_answer: '{}',
      created_ms: nowMs,
      updated_ms: nowMs,
    });
    await db('reservation_holds').insert({
      reservation_id: reservationId,
      line_index: 0,
      position_id: position.position_id,
      node_id: s.nodeId,
      item_id: s.itemId,
      quantity: units,
      state: 'HELD',
      expire_ms: expireMs,
    });
  }
}

describeEachDatabase('availability of the unsegmented pool, net of what segments borrowed', (dialect) => {
  let t: TestService;
  let db: Knex;
  const now = Date.now();
  let versions = 0;

  /** Puts a new version of the consumption rules in force. */
  const setRules = (borrowingEnabled: boolean, segments: SegmentBorrowing[]) =>
    db.transaction((trx) =>
      insertConsumptionRules({
        trx,
        rules: { borrowingEnabled, segments },
        requestId: `rules-${++versions}`,
        nowMs: now,
      }),
    );
  const BORROWING = [borrower(STORE), borrower(ONLINE)];
  const pool = async (itemId: string, nodeId = 'STORE_1', asOfTime?: Date) =>
    (await t.clients.availability.getNodeAvailability({ item: item(itemId), nodeId, segment: undefined, asOfTime }))
      .availability!;

  beforeAll(async () => {
    t = await startTestService(dialect);
    db = t.database.db.knex;
    await createNodes(t.clients, ['STORE_1', 'STORE_2']);
    await t.clients.nodes.createDistributionGroup({
      requestId: 'dg-stores',
      distributionGroup: {
        distributionGroupId: 'STORES',
        nodeIds: ['STORE_1', 'STORE_2'],
        description: '',
        createTime: undefined,
      },
    });
  });
  afterAll(async () => t.stop());

  it('lends what a borrowing segment committed beyond its own supply, and the pool falls by it', async () => {
    await onhand(t.clients, [{ itemId: 'LENT', nodeId: 'STORE_1', quantity: 20 }]);
    expect(await pool('LENT')).toMatchObject({ available: 20, lent: 0, consumptionRulesVersion: 0 });

    await seedSegment(db, { itemId: 'LENT', nodeId: 'STORE_1', segment: STORE, onhand: 10, demand: 15, loan: 5 }, now);
    const { version } = await setRules(true, BORROWING);
    expect(await pool('LENT')).toMatchObject({
      available: 15,
      ownAvailable: 15,
      shortage: 0,
      onhandQuantity: 20,
      lent: 5,
      borrowable: 0,
      borrowed: 0,
      borrowLimit: pb.BorrowLimit.BORROW_LIMIT_NOT_BORROWING,
      consumptionRulesVersion: version,
    });
  });

  it('counts holds that take, not those past expiry, and explains each loan and the terms', async () => {
    await setRules(true, BORROWING);
    await onhand(t.clients, [{ itemId: 'EXPLAIN', nodeId: 'STORE_1', quantity: 20 }]);
    await seedSegment(
      db,
      { itemId: 'EXPLAIN', nodeId: 'STORE_1', segment: STORE, onhand: 10, demand: 12, loan: 2 },
      now,
    );
    await seedSegment(
      db,
      {
        itemId: 'EXPLAIN',
        nodeId: 'STORE_1',
        segment: ONLINE,
        onhand: 4,
        demand: 0,
        held: 7,
        expiredHeld: 50,
        loan: 3,
      },
      now,
    );
    await t.clients.safetyStock.setSafetyStock({
      requestId: 'ss-explain',
      safetyStock: { item: item('EXPLAIN'), nodeId: 'STORE_1', quantity: 4, level: 0 },
    });
    const res = await t.clients.availability.explainAvailability({
      item: item('EXPLAIN'),
      nodeId: 'STORE_1',
      segment: undefined,
      asOfTime: undefined,
    });
    const [node] = res.nodes;
    // 20 - 2 (STORE) - 3 (ONLINE) - 4 safety stock.
    expect(node?.availability).toMatchObject({ available: 11, lent: 5, safetyStockQuantity: 4 });
    expect(node?.loans.map((l) => [l.segment?.segmentType, l.segment?.segment, l.quantity]).sort()).toEqual([
      ['WEB', 'ONLINE', 3],
      ['WEB', 'STORE', 2],
    ]);
    expect(node?.borrowing).toMatchObject({
      borrowingEnabled: true,
      mayBorrow: false,
      capQuantity: undefined,
      poolSupplyQuantity: 20,
      poolFreeQuantity: 11,
      poolSafetyStockQuantity: 4,
    });
    expect(node?.safetyStockSource).toBe('the rule for the item at this node');
    // The pool's explanation lists its own supply only.
    expect(node?.supplies.map((s) => [s.key?.segment?.segment, s.quantity])).toEqual([['', 20]]);
  });

  it('sums what is lent over the nodes of a group, each node lending only there', async () => {
    await setRules(true, BORROWING);
    await onhand(t.clients, [
      { itemId: 'GROUP', nodeId: 'STORE_1', quantity: 20 },
      { itemId: 'GROUP', nodeId: 'STORE_2', quantity: 6 },
    ]);
    await seedSegment(db, { itemId: 'GROUP', nodeId: 'STORE_1', segment: STORE, onhand: 0, demand: 8, loan: 8 }, now);
    await seedSegment(db, { itemId: 'GROUP', nodeId: 'STORE_2', segment: STORE, onhand: 1, demand: 2, loan: 1 }, now);
    const { availability } = await t.clients.availability.getNetworkAvailability({
      item: item('GROUP'),
      distributionGroupId: 'STORES',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability).toMatchObject({ available: 17, ownAvailable: 17, lent: 9, borrowable: 0 });
    expect(availability?.nodes.map((n) => [n.nodeId, n.available, n.lent])).toEqual([
      ['STORE_1', 12, 8],
      ['STORE_2', 5, 1],
    ]);
  });

  it("opens a bucket by date where a segment's arriving supply repays its loan", async () => {
    await setRules(true, BORROWING);
    await onhand(t.clients, [{ itemId: 'REPAID', nodeId: 'STORE_1', quantity: 20 }]);
    const etaMs = now + 2 * DAY;
    await seedSegment(
      db,
      {
        itemId: 'REPAID',
        nodeId: 'STORE_1',
        segment: STORE,
        onhand: 10,
        incoming: { quantity: 3, etaMs },
        demand: 15,
        loan: 5,
      },
      now,
    );
    const res = await t.clients.availability.getAvailabilityByDate({
      item: item('REPAID'),
      nodeId: 'STORE_1',
      segment: undefined,
      horizonTime: new Date(now + 10 * DAY),
    });
    expect(res).toMatchObject({ currentAvailable: 15, currentLent: 5, currentOwnAvailable: 15 });
    expect(res.buckets.map((b) => [b.bucketTime?.getTime(), b.incomingQuantity, b.available, b.lent])).toEqual([
      [etaMs, 0, 18, 2],
    ]);
    expect(await pool('REPAID', 'STORE_1', new Date(etaMs))).toMatchObject({ available: 18, lent: 2 });
  });

  it('keeps counting a settled loan after borrowing is switched off, but never one that was not taken', async () => {
    await onhand(t.clients, [{ itemId: 'OFF', nodeId: 'STORE_1', quantity: 20 }]);
    await seedSegment(db, { itemId: 'OFF', nodeId: 'STORE_1', segment: STORE, onhand: 10, demand: 15, loan: 5 }, now);
    await seedSegment(db, { itemId: 'OFF', nodeId: 'STORE_1', segment: ONLINE, onhand: 0, demand: 9, loan: 0 }, now);
    const { version } = await setRules(false, BORROWING);
    // STORE still owes its 5; ONLINE's 9 short were never lent: they are ONLINE's shortage, not the pool's.
    expect(await pool('OFF')).toMatchObject({ available: 15, lent: 5, consumptionRulesVersion: version });
  });
});
