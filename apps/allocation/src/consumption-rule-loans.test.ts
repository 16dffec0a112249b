import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { MAX_TIME_MS } from '@inventory/domain';
import { describeEachDatabase } from '@inventory/store/testing';
import { defineSegments } from './testing/stock';
import { promisify, startTestService, type Promisified, type TestService } from './testing/harness';

const STORE = { segmentType: 'CHANNEL', segment: 'STORE' };
const ONLINE = { segmentType: 'CHANNEL', segment: 'ONLINE' };
const MARKETPLACE = { segmentType: 'CHANNEL', segment: 'MARKETPLACE' };
const OTHER = { segmentType: 'CHANNEL', segment: 'OTHER' };
const POOL = { segmentType: '', segment: '' };

interface Seed {
  readonly at: string;
  readonly segment: pb.SegmentKey;
  readonly supply?: number;
  readonly demand?: number;
  readonly reserved?: number;
  readonly loan?: number;
}

/** `ITEM@NODE`, and the segment's name (`POOL` for the unsegmented pool). */
const nameOf = (row: { item_id: string; node_id: string; segment: string }) =>
  `${row.item_id}@${row.node_id} ${row.segment || 'POOL'}`;

describeEachDatabase('consumption rules settle the loans of segments that start to borrow', (dialect) => {
  let t: TestService;
  let rules: Promisified<pb.ConsumptionRuleServiceClient>;
  let client: pb.ConsumptionRuleServiceClient;
  beforeAll(async () => {
    t = await startTestService(dialect);
    client = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    rules = promisify(client);
    await defineSegments(t.address, [STORE, ONLINE, MARKETPLACE, OTHER]);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  // Segments cannot hold stock through the API yet, so their positions are written as the store keeps them.
  const seed = (rows: readonly Seed[]) =>
    t.database.db.knex('stock_positions').insert(
      rows.map((r) => {
        const [itemId, nodeId] = r.at.split('@');
        return {
          item_id: itemId,
          unit_of_measure: 'EACH',
          product_class: '',
          node_id: nodeId,
          segment_type: r.segment.segmentType,
          segment: r.segment.segment,
          supply: r.supply ?? 0,
          demand: r.demand ?? 0,
          reserved: r.reserved ?? 0,
          loan: r.loan ?? 0,
          next_eta_ms: MAX_TIME_MS,
        };
      }),
    );
  const setDemand = (at: string, segment: pb.SegmentKey, demand: number) => {
    const [itemId, nodeId] = at.split('@');
    return t.database.db
      .knex('stock_positions')
      .where({ item_id: itemId, node_id: nodeId, segment_type: segment.segmentType, segment: segment.segment })
      .update({ demand });
  };
  /** Every position's loan, and its totals (which settling must leave as they are). */
  const positions = async () => {
    const rows: Array<{ item_id: string; node_id: string; segment: string; [total: string]: unknown }> =
      await t.database.db.knex('stock_positions').select('*').orderBy('position_id');
    return Object.fromEntries(
      rows.map((r) => [nameOf(r), [r['supply'], r['demand'], r['reserved'], r['loan']].map(Number).join(' ')]),
    );
  };
  const set = (requestId: string, borrowingEnabled: boolean, segments: pb.SegmentConsumptionRule[]) =>
    rules.setConsumptionRules({ requestId, borrowingEnabled, segments });

  it('settles each new borrower at its shortfall, the pool at the sum, and leaves the others as they were', async () => {
    await seed([
      { at: 'A@N1', segment: POOL, supply: 100, loan: 2 },
      { at: 'A@N1', segment: STORE, supply: 5, demand: 8, reserved: 4 },
      { at: 'A@N1', segment: ONLINE, supply: 10, demand: 3 },
      // A loan taken while it could borrow: it stays until its own supply covers it.
      { at: 'A@N1', segment: MARKETPLACE, demand: 2, loan: 2 },
      // No pool position here yet.
      { at: 'A@N2', segment: STORE, reserved: 3 },
      // Settled before, owing more now.
      { at: 'B@N1', segment: POOL, loan: 1 },
      { at: 'B@N1', segment: STORE, demand: 4, loan: 1 },
      // Settled before, its own supply covers it now.
      { at: 'C@N1', segment: POOL, loan: 2 },
      { at: 'C@N1', segment: STORE, supply: 10, loan: 2 },
      { at: 'D@N1', segment: OTHER, demand: 5 },
    ]);
    const storeOnly = [
      { segment: STORE, mayBorrow: true },
      { segment: ONLINE, mayBorrow: false },
    ];
    const first = await set('loans-1', true, storeOnly);
    // supply demand reserved loan
    const afterFirst = {
      'A@N1 POOL': '100 0 0 9',
      'A@N1 STORE': '5 8 4 7',
      'A@N1 ONLINE': '10 3 0 0',
      'A@N1 MARKETPLACE': '0 2 0 2',
      'A@N2 STORE': '0 0 3 3',
      'B@N1 POOL': '0 0 0 4',
      'B@N1 STORE': '0 4 0 4',
      'C@N1 POOL': '0 0 0 0',
      'C@N1 STORE': '10 0 0 0',
      'D@N1 OTHER': '0 5 0 0',
      'A@N2 POOL': '0 0 0 3',
    };
    expect(await positions()).toEqual(afterFirst);

    // Commitments move; a retry of the first version settles nothing again.
    await setDemand('A@N1', STORE, 20);
    await setDemand('A@N1', ONLINE, 13);
    expect(await set('loans-1', true, storeOnly)).toEqual(first);
    const moved = { ...afterFirst, 'A@N1 STORE': '5 20 4 7', 'A@N1 ONLINE': '10 13 0 0' };
    expect(await positions()).toEqual(moved);

    // ONLINE starts to borrow; STORE borrowed already and is not settled again.
    const both = [
      { segment: STORE, mayBorrow: true },
      { segment: ONLINE, mayBorrow: true },
    ];
    await set('loans-2', true, both);
    const onlineBorrows = { ...moved, 'A@N1 ONLINE': '10 13 0 3', 'A@N1 POOL': '100 0 0 12' };
    expect(await positions()).toEqual(onlineBorrows);

    // The master switch off stops new loans and keeps the ones taken; on again, both start to borrow.
    await set('loans-3', false, both);
    expect(await positions()).toEqual(onlineBorrows);
    await set('loans-4', true, both);
    expect(await positions()).toEqual({ ...onlineBorrows, 'A@N1 STORE': '5 20 4 19', 'A@N1 POOL': '100 0 0 24' });
  });
});
