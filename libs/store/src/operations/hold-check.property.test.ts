/**
 * The check-and-hold UPDATE restates the domain's `promisable` in SQL, where it guards against stock taken
 * between a reservation's read and its write. Sequential histories never reach that guard (the domain has
 * refused first), so it is pinned here: on random position totals and safety stock rules, the UPDATE takes
 * the units exactly when the domain says the position can promise them.
 */
import fc from 'fast-check';
import { itemKey, positionKeyId, promisable, UNSEGMENTED, withheldSafetyStock } from '@inventory/domain';
import { migrateToLatest } from '../database';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../testing';
import { inTransaction } from '../transaction';
import { positionKeyColumns } from '../tables/position-key';
import { holdStatements, isRefusedHold, readPositions } from './positions';

const NOW = Date.parse('2026-11-29T12:00:00Z');

describeEachDatabase('the check-and-hold UPDATE', (dialect) => {
  let test: TestDatabase;
  let positions = 0;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    await migrateToLatest(test.db);
  });
  afterAll(async () => test.drop());

  const case_ = fc.record({
    supply: fc.integer({ min: -5, max: 20 }),
    demand: fc.integer({ min: 0, max: 10 }),
    reserved: fc.integer({ min: 0, max: 10 }),
    nodeSafetyStock: fc.option(fc.integer({ min: 0, max: 6 })),
    itemSafetyStock: fc.option(fc.integer({ min: 0, max: 6 })),
    segmented: fc.boolean(),
    recountDue: fc.boolean(),
    quantity: fc.integer({ min: 1, max: 12 }),
  });

  it('takes the units exactly when the domain says the position can promise them', async () => {
    await fc.assert(
      fc.asyncProperty(case_, async (c) => {
        const key = {
          item: itemKey(`HOLD-${++positions}`),
          nodeId: 'N1',
          segment: c.segmented ? { segmentType: 'CHANNEL', segment: 'WEB' } : UNSEGMENTED,
        };
        const db = test.db.knex;
        const rule = (nodeId: string, quantity: number | null) =>
          quantity === null
            ? []
            : [
                {
                  item_id: key.item.itemId,
                  unit_of_measure: key.item.unitOfMeasure,
                  product_class: key.item.productClass,
                  node_id: nodeId,
                  quantity,
                  updated_ms: NOW,
                },
              ];
        const rules = [...rule('N1', c.nodeSafetyStock), ...rule('', c.itemSafetyStock)];
        if (rules.length > 0) await db('safety_stock').insert(rules);
        await db('stock_positions').insert({
          ...positionKeyColumns(key),
          supply: c.supply,
          demand: c.demand,
          reserved: c.reserved,
          next_eta_ms: c.recountDue ? NOW : NOW + 1,
        });

        const position = (await readPositions({ db, keys: [key] })).get(positionKeyId(key))!;
        const fits = !c.recountDue && promisable(key, position) >= c.quantity;
        const hold = {
          positionId: position.positionId,
          quantity: c.quantity,
          safetyStock: withheldSafetyStock(key, position),
        };
        let held = true;
        try {
          await inTransaction(test.db, async (trx) => {
            for (const statement of holdStatements(trx, [hold], NOW)) await statement;
          });
        } catch (err) {
          if (!isRefusedHold(err)) throw err;
          held = false;
        }
        expect({ case: c, held }).toEqual({ case: c, held: fits });
        const after = (await readPositions({ db, keys: [key] })).get(positionKeyId(key))!;
        expect(after.reserved).toBe(c.reserved + (fits ? c.quantity : 0));
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
