import type { Reservation } from '@inventory/domain';
import { migrateToLatest } from '../database';
import { oncePerRequestId } from '../operations/idempotency';
import { getDistributionGroup, getNode, insertDistributionGroup, insertNode, listNodes } from '../operations/nodes';
import {
  appendLedger,
  findQuantities,
  ledgerOfRequest,
  listQuantities,
  lockQuantities,
  updateQuantities,
} from '../operations/quantities';
import { DEMAND } from '../operations/demand';
import {
  firstAnswersOf,
  firstAnswersQuery,
  findReservation,
  growHold,
  listReservations,
  lockReservation,
  reservationInserts,
} from '../operations/reservations';
import { findSafetyStock, upsertSafetyStock } from '../operations/safety-stock';
import { SUPPLY } from '../operations/supply';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../testing';
import { inTransaction } from '../transaction';

const NOW = 1_795_000_000_000;
const item = { itemId: 'SKU-1', unitOfMeasure: 'EACH', productClass: 'A' };
const segment = { segmentType: 'CHANNEL', segment: 'B2B' };
/** Above 2^32 and well below 2^53: a BIGINT every driver must hand back exactly. */
const LARGE = 2 ** 40 + 7;

describeEachDatabase('table rows', (dialect) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    await migrateToLatest(test.db);
    await inTransaction(test.db, async (trx) => {
      for (const nodeId of ['DC1', 'DC2'])
        await insertNode({ trx, node: { nodeId, nodeType: 'DC', description: `node ${nodeId}`, createMs: NOW } });
    });
  }, 60_000);
  afterAll(async () => test.drop());

  it('reads nodes and groups back as written', async () => {
    const group = { distributionGroupId: 'EAST', description: 'east', nodeIds: ['DC2', 'DC1'], createMs: NOW };
    await inTransaction(test.db, (trx) => insertDistributionGroup({ trx, group }));
    expect(await getDistributionGroup({ db: test.db.knex, id: 'EAST' })).toEqual(group);
    expect(await getNode({ db: test.db.knex, nodeId: 'DC1' })).toEqual({
      nodeId: 'DC1',
      nodeType: 'DC',
      description: 'node DC1',
      createMs: NOW,
    });
    expect((await listNodes({ db: test.db.knex, afterNodeId: 'DC1', limit: 10 })).map((n) => n.nodeId)).toEqual([
      'DC2',
    ]);
  });

  it('reads supply, demand and their ledger back as written, large integers exactly', async () => {
    const onhand = { item, nodeId: 'DC1', segment, supplyType: 'ONHAND' as const, etaMs: null };
    const inTransit = { item, nodeId: 'DC1', segment, supplyType: 'INTRANSIT' as const, etaMs: NOW + LARGE };
    await inTransaction(test.db, async (trx) => {
      const locked = await lockQuantities(SUPPLY, { trx, keys: [onhand, inTransit], nowMs: NOW });
      const rows = [...locked.values()].map((row) => ({ ...row, quantity: LARGE, lastSyncMs: NOW }));
      await updateQuantities(SUPPLY, { trx, rows, nowMs: NOW });
      const rowId = rows[0]!.id;
      await appendLedger(SUPPLY, {
        trx,
        nowMs: NOW,
        entries: [
          {
            actionId: 'a-1',
            requestId: 'r-1',
            rowId,
            transactionType: 'SYNC',
            quantity: LARGE,
            sourceMs: NOW,
            outcome: 'APPLIED',
            quantityBefore: 0,
            quantityAfter: LARGE,
            reason: 'count',
          },
        ],
      });
    });
    const found = await findQuantities(SUPPLY, { db: test.db.knex, item, nodeIds: ['DC1'], segment });
    expect(found).toEqual([
      { key: inTransit, quantity: LARGE, lastSyncMs: NOW, updateMs: NOW },
      { key: onhand, quantity: LARGE, lastSyncMs: NOW, updateMs: NOW },
    ]);
    const [ledger] = await ledgerOfRequest(SUPPLY, { db: test.db.knex, requestId: 'r-1' });
    expect(ledger).toMatchObject({
      actionId: 'a-1',
      transactionType: 'SYNC',
      quantity: LARGE,
      quantityAfter: LARGE,
      reason: 'count',
      recordedMs: NOW,
    });

    const order = { item, nodeId: 'DC2', segment, demandType: 'OPEN_ORDER' as const, orderReference: 'SO-1' };
    await inTransaction(test.db, (trx) => lockQuantities(DEMAND, { trx, keys: [order], nowMs: NOW }));
    const listed = await listQuantities(DEMAND, { db: test.db.knex, nodeId: 'DC2', itemId: '', afterId: 0, limit: 10 });
    expect(listed).toEqual([
      { id: expect.any(Number), record: { key: order, quantity: 0, lastSyncMs: null, updateMs: NOW } },
    ]);
  });

  it('refuses a stored integer a number cannot hold exactly, or a code it does not know, naming the column', async () => {
    const key = {
      item_id: 'SKU-BAD',
      unit_of_measure: 'EACH',
      product_class: '',
      node_id: 'DC1',
      segment_type: '',
      segment: '',
    };
    await test.db.knex('supply').insert([
      // 2^53 + 1: read as a number it would silently become 2^53.
      {
        ...key,
        supply_type: 'ONHAND',
        eta_ms: 0,
        quantity: test.db.knex.raw('9007199254740993'),
        last_sync_ms: null,
        updated_ms: NOW,
      },
    ]);
    const read = () =>
      findQuantities(SUPPLY, {
        db: test.db.knex,
        item: { itemId: 'SKU-BAD', unitOfMeasure: 'EACH', productClass: '' },
        nodeIds: ['DC1'],
        segment: { segmentType: '', segment: '' },
      });
    await expect(read()).rejects.toThrow(/supply\.quantity/);
    await test.db.knex('supply').where(key).update({ quantity: 1, supply_type: 'SOMEDAY' });
    await expect(read()).rejects.toThrow(/supply\.supply_type.*SOMEDAY/);
  });

  it('reads safety stock rules back as written', async () => {
    await inTransaction(test.db, async (trx) => {
      await upsertSafetyStock({ trx, rule: { item, nodeId: '', quantity: 3 }, nowMs: NOW });
      await upsertSafetyStock({ trx, rule: { item, nodeId: 'DC1', quantity: LARGE }, nowMs: NOW });
    });
    const rules = await findSafetyStock({ db: test.db.knex, item, nodeIds: ['DC1', 'DC2'] });
    expect(rules.sort((a, b) => a.nodeId.localeCompare(b.nodeId))).toEqual([
      { item, nodeId: '', quantity: 3 },
      { item, nodeId: 'DC1', quantity: LARGE },
    ]);
  });

  it('reads reservations, their holds and first answers back as written', async () => {
    const reservation: Reservation = {
      reservationId: 'res-1',
      state: 'ACTIVE',
      expireMs: NOW + LARGE,
      createMs: NOW,
      updateMs: NOW,
      lines: [
        {
          line: { item, location: { nodeId: 'DC1' }, segment, quantity: 4, allowSplit: false },
          allocations: [{ lineIndex: 0, nodeId: 'DC1', quantity: 4 }],
          consumedQuantity: 0,
        },
      ],
    };
    const hold = {
      reservationId: 'res-1',
      lineIndex: 0,
      positionId: LARGE,
      nodeId: 'DC1',
      itemId: item.itemId,
      quantity: 4,
      expireMs: reservation.expireMs,
    };
    await inTransaction(test.db, async (trx) => {
      for (const insert of reservationInserts(trx, [{ reservation, requestHash: 'hash-1' }], [hold])) await insert;
      await growHold({ trx, hold: { ...hold, quantity: 2 } });
    });
    const { lines, ...record } = reservation;
    expect(await findReservation({ db: test.db.knex, reservationId: 'res-1' })).toEqual({ ...record, lines });
    expect(await listReservations({ db: test.db.knex, state: 'ACTIVE', afterId: '', limit: 10, nowMs: NOW })).toEqual([
      { ...record, lines },
    ]);
    const locked = await inTransaction(test.db, (trx) => lockReservation({ trx, reservationId: 'res-1' }));
    expect(locked?.holds).toEqual([
      {
        holdId: expect.any(Number),
        reservationId: 'res-1',
        lineIndex: 0,
        positionId: LARGE,
        nodeId: 'DC1',
        quantity: 6,
        state: 'HELD',
      },
    ]);
    const answers = firstAnswersOf(await firstAnswersQuery(test.db.knex, ['res-1', 'res-2']));
    expect([...answers]).toEqual([['res-1', { requestHash: 'hash-1', answer: reservation }]]);
  });

  it('answers a retried request id with the stored first answer', async () => {
    const run = (request: unknown, answer: unknown) =>
      inTransaction(test.db, (trx) =>
        oncePerRequestId({ trx, requestId: 'req-1', method: 'Test', request, nowMs: NOW }, async () => answer),
      );
    expect(await run({ n: 1 }, { results: [LARGE] })).toEqual({ results: [LARGE] });
    expect(await run({ n: 1 }, { results: ['not this'] })).toEqual({ results: [LARGE] });
    await expect(run({ n: 2 }, {})).rejects.toThrow(/req-1/);
  });
});
