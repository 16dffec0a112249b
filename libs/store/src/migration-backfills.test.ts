import type { Knex } from 'knex';
import { MAX_TIME_MS } from '@inventory/domain';
import { migrateToLatest, type Database } from './database';
import { migrationSource } from './migrations';
import { positionsDueForRecount, recountPositions } from './operations/positions';
import { findQuantities } from './operations/quantities';
import { SUPPLY } from './operations/supply';
import type { DemandRow } from './tables/demand';
import type { SupplyRow } from './tables/supply';
import { createTestDatabase, describeEachDatabase, positionsDisagreeingWithRows, type TestDatabase } from './testing';
import { inTransaction } from './transaction';

const CREATE_STOCK_POSITIONS = '20261129001000_create_stock_positions';
const WIDEN_OUTBOX_PAYLOAD = '20261129001400_widen_outbox_payload';

/** Migrates up or down until every migration before `name` has run, and `name` and later ones have not. */
async function migrateToJustBefore(db: Database, name: string): Promise<void> {
  const target = (await migrationSource.getMigrations([])).indexOf(name);
  for (;;) {
    const [completed] = (await db.knex.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    if (completed.length <= target) break;
    await db.knex.migrate.down({ migrationSource });
  }
  await db.knex.migrate.before({ migrationSource, name });
}

/** What an operator's database holds from before stock positions and the widened outbox. */
const HOUR = 3_600_000;
const NOW = Date.now();
const PAST_ETA = NOW - HOUR;
const FUTURE_ETA = NOW + 240 * HOUR;
const LATER_ETA = NOW + 480 * HOUR;

const unsegmented = { segment_type: '', segment: '' };
const at = (itemId: string, nodeId: string, segment = unsegmented) => ({
  item_id: itemId,
  unit_of_measure: 'EACH',
  product_class: '',
  node_id: nodeId,
  ...segment,
});
const b2b = { segment_type: 'CHANNEL', segment: 'B2B' };

type NewSupply = Omit<SupplyRow, 'supply_id' | 'last_sync_ms' | 'updated_ms'>;
type NewDemand = Omit<DemandRow, 'demand_id' | 'last_sync_ms' | 'updated_ms'>;

const SUPPLY_ROWS: NewSupply[] = [
  { ...at('SKU-A', 'DC1'), supply_type: 'ONHAND', eta_ms: 0, quantity: 10 },
  { ...at('SKU-A', 'DC1'), supply_type: 'INTRANSIT', eta_ms: PAST_ETA, quantity: 3 },
  { ...at('SKU-A', 'DC1'), supply_type: 'PO_PLACED', eta_ms: FUTURE_ETA, quantity: 5 },
  { ...at('SKU-A', 'DC1'), supply_type: 'WIP', eta_ms: LATER_ETA, quantity: 6 },
  { ...at('SKU-A', 'DC1'), supply_type: 'PLAN', eta_ms: PAST_ETA, quantity: 100 },
  { ...at('SKU-A', 'DC1', b2b), supply_type: 'ONHAND', eta_ms: 0, quantity: 4 },
  { ...at('SKU-A', 'DC2'), supply_type: 'ONHAND', eta_ms: 0, quantity: 20 },
  // Only planned supply: a position that counts nothing.
  { ...at('SKU-B', 'DC2'), supply_type: 'PLAN', eta_ms: FUTURE_ETA, quantity: 50 },
];

const DEMAND_ROWS: NewDemand[] = [
  { ...at('SKU-A', 'DC1'), demand_type: 'OPEN_ORDER', order_reference: 'SO-1', quantity: 2 },
  { ...at('SKU-A', 'DC1'), demand_type: 'ALLOCATED', order_reference: '', quantity: 1 },
  { ...at('SKU-A', 'DC1'), demand_type: 'PLAN', order_reference: '', quantity: 40 },
  { ...at('SKU-A', 'DC1', b2b), demand_type: 'BACKORDER', order_reference: 'SO-2', quantity: 1 },
  // Demand where no supply was ever recorded: supply arriving later must still find it counted.
  { ...at('SKU-C', 'DC1'), demand_type: 'OPEN_ORDER', order_reference: 'SO-3', quantity: 7 },
];

/** What the positions must add up to once recounted: supply due by now, counted demand, and the next ETA. */
const EXPECTED_POSITIONS = [
  { key: at('SKU-A', 'DC1'), supply: 13, demand: 3, reserved: 0, next_eta_ms: FUTURE_ETA },
  { key: at('SKU-A', 'DC1', b2b), supply: 4, demand: 1, reserved: 0, next_eta_ms: MAX_TIME_MS },
  { key: at('SKU-A', 'DC2'), supply: 20, demand: 0, reserved: 0, next_eta_ms: MAX_TIME_MS },
  { key: at('SKU-B', 'DC2'), supply: 0, demand: 0, reserved: 0, next_eta_ms: MAX_TIME_MS },
  { key: at('SKU-C', 'DC1'), supply: 0, demand: 7, reserved: 0, next_eta_ms: MAX_TIME_MS },
];

/** More than MySQL's TEXT holds (64 KiB), as a reservation event of 1000 lines is. */
const WIDE_PAYLOAD = JSON.stringify({
  lines: Array.from({ length: 1000 }, (_, i) => ({ lineIndex: i, itemId: `SKU-${i}`.padEnd(100, 'x') })),
});
const OLD_PAYLOAD = JSON.stringify({ key: { itemId: 'SKU-A' }, quantityBefore: 0, quantityAfter: 10 });

async function fillBeforePositions(knex: Knex): Promise<void> {
  await knex('nodes').insert(
    ['DC1', 'DC2'].map((node_id) => ({ node_id, node_type: 'DC', description: '', created_ms: NOW })),
  );
  await knex('supply').insert(SUPPLY_ROWS.map((r) => ({ ...r, last_sync_ms: NOW - HOUR, updated_ms: NOW })));
  await knex('demand').insert(DEMAND_ROWS.map((r) => ({ ...r, last_sync_ms: null, updated_ms: NOW })));
  const [onhand] = await knex('supply')
    .where({ ...at('SKU-A', 'DC1'), supply_type: 'ONHAND' })
    .pluck('supply_id');
  await knex('supply_ledger').insert({
    action_id: 'a-1',
    request_id: 'r-1',
    supply_id: onhand,
    transaction_type: 'SYNC',
    quantity: 10,
    source_ms: NOW - HOUR,
    outcome: 'APPLIED',
    quantity_before: 0,
    quantity_after: 10,
    reason: '',
    recorded_ms: NOW,
  });
  await knex('outbox').insert({
    event_type: 'supply.changed',
    action_id: 'a-1',
    payload: OLD_PAYLOAD,
    created_ms: NOW,
  });
  await knex('safety_stock').insert({
    item_id: 'SKU-A',
    unit_of_measure: 'EACH',
    product_class: '',
    node_id: 'DC1',
    quantity: 2,
    updated_ms: NOW,
  });
  await knex('idempotency_keys').insert({
    request_id: 'r-1',
    method: 'SyncSupply',
    request_hash: 'h',
    response: '{"results":[]}',
    created_ms: NOW,
  });
}

/** Every row of the tables that exist before stock positions, in a stable order, to compare across migrations. */
/** Columns the supply ledger gained after positions came (see the rebalancing migration). */
const AUDIT_COLUMNS = ['purpose', 'audit_type', 'actor', 'parent_action_id', 'related_action_id', 'allocation'];

/** The rows as the schema before positions had them (later columns left out). */
async function rowsBeforePositions(knex: Knex) {
  const all = async (table: string, orderBy: string) =>
    (await knex(table).orderBy(orderBy)).map((r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).filter(([column]) => !AUDIT_COLUMNS.includes(column))),
    );
  return {
    nodes: await all('nodes', 'node_id'),
    supply: await all('supply', 'supply_id'),
    demand: await all('demand', 'demand_id'),
    supplyLedger: await all('supply_ledger', 'ledger_id'),
    outbox: await outboxEvents(knex),
    safetyStock: await all('safety_stock', 'node_id'),
    idempotencyKeys: await all('idempotency_keys', 'request_id'),
  };
}

/**
 * Outbox rows with their payload as text: a later migration may keep payloads as bytes (which the driver
 * returns as a Buffer), and the JSON written before stays the same bytes. Only the columns written then: a
 * later migration may add some (the stream position).
 */
async function outboxEvents(knex: Knex) {
  const rows = await knex('outbox')
    .orderBy('sequence')
    .select('sequence', 'event_type', 'action_id', 'payload', 'created_ms');
  return rows.map((r: Record<string, unknown>) => ({ ...r, payload: textOf(r.payload) }));
}

async function payloadOf(knex: Knex, actionId: string): Promise<string> {
  return textOf((await knex('outbox').where({ action_id: actionId }).first()).payload);
}

const textOf = (payload: unknown): string => (Buffer.isBuffer(payload) ? payload.toString('utf8') : String(payload));

async function positions(knex: Knex) {
  const rows = await knex('stock_positions').orderBy(['item_id', 'node_id', 'segment_type', 'segment']);
  return rows.map((r: Record<string, unknown>) => ({
    key: at(String(r.item_id), String(r.node_id), { segment_type: String(r.segment_type), segment: String(r.segment) }),
    supply: Number(r.supply),
    demand: Number(r.demand),
    reserved: Number(r.reserved),
    next_eta_ms: Number(r.next_eta_ms),
  }));
}

async function positionIds(knex: Knex): Promise<number[]> {
  return (await knex('stock_positions').orderBy('position_id').pluck('position_id')).map(Number);
}

/** The outbox payload column's type on MySQL (SQLite's TEXT has no length limit). */
async function payloadColumnType(test: TestDatabase): Promise<string> {
  const [rows] = await test.db.knex.raw(
    "SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'outbox' AND COLUMN_NAME = 'payload'",
  );
  return String(rows[0].t);
}

/** The tests run in order over one database: each starts from where the one before left it, with its rows. */
describeEachDatabase('migrations with data', (dialect) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await test.drop();
  });

  it('creates a position, due for recount, for every key with supply or demand recorded before positions existed', async () => {
    const knex = test.db.knex;
    await migrateToJustBefore(test.db, CREATE_STOCK_POSITIONS);
    expect(await knex.schema.hasTable('stock_positions')).toBe(false);
    await fillBeforePositions(knex);
    const before = await rowsBeforePositions(knex);

    await migrateToLatest(test.db);

    // Created at zero and marked due for recount (next_eta_ms 0), so the first reservation recounts them.
    expect(await positions(knex)).toEqual(
      EXPECTED_POSITIONS.map((p) => ({ key: p.key, supply: 0, demand: 0, reserved: 0, next_eta_ms: 0 })),
    );
    const ids = await positionIds(knex);
    expect(await positionsDueForRecount({ db: knex, positionIds: ids, nowMs: NOW })).toEqual(
      expect.arrayContaining(ids),
    );
    expect(await rowsBeforePositions(knex)).toEqual(before);
    // The supply ledger's rows gain the audit of a caller's sync or adjust.
    expect(await knex('supply_ledger').orderBy('ledger_id').select(AUDIT_COLUMNS)).toEqual(
      before.supplyLedger.map((row) => ({
        purpose: row.transaction_type === 'SYNC' ? 'SUPPLY_SYNC' : 'SUPPLY_ADJUSTMENT',
        audit_type: 'USER',
        actor: '',
        parent_action_id: '',
        related_action_id: '',
        allocation: null,
      })),
    );

    await inTransaction(test.db, (trx) => recountPositions({ trx, positionIds: ids, nowMs: NOW }));
    expect(await positions(knex)).toEqual(EXPECTED_POSITIONS);
    expect(await positionsDisagreeingWithRows(knex)).toEqual([]);
    expect(await positionsDueForRecount({ db: knex, positionIds: ids, nowMs: NOW })).toEqual([]);
    // The rows read back through the store as they were written.
    const supply = await findQuantities(SUPPLY, {
      db: knex,
      item: { itemId: 'SKU-A', unitOfMeasure: 'EACH', productClass: '' },
      nodeIds: ['DC1'],
      segment: { segmentType: '', segment: '' },
    });
    expect(supply.map((s) => [s.key.supplyType, s.key.etaMs, s.quantity])).toEqual([
      ['INTRANSIT', PAST_ETA, 3],
      ['ONHAND', null, 10],
      ['PLAN', PAST_ETA, 100],
      ['PO_PLACED', FUTURE_ETA, 5],
      ['WIP', LATER_ETA, 6],
    ]);
  }, 120_000);

  it('takes event payloads larger than 64 KiB once the outbox is widened, and keeps the events already there', async () => {
    const knex = test.db.knex;
    await migrateToJustBefore(test.db, WIDEN_OUTBOX_PAYLOAD);
    const wide = { event_type: 'reservation.created', action_id: 'a-wide', payload: WIDE_PAYLOAD, created_ms: NOW };
    if (dialect === 'mysql') {
      expect(await payloadColumnType(test)).toBe('text');
      // Strict mode refuses what TEXT cannot hold instead of cutting it short.
      await expect(knex('outbox').insert(wide)).rejects.toThrow(/too long/i);
    }
    const oldEvents = await outboxEvents(knex);

    await knex.migrate.up({ migrationSource, name: WIDEN_OUTBOX_PAYLOAD });

    if (dialect === 'mysql') expect(await payloadColumnType(test)).toBe('mediumtext');
    expect(await outboxEvents(knex)).toEqual(oldEvents);
    await knex('outbox').insert(wide);
    expect(await payloadOf(knex, 'a-wide')).toBe(WIDE_PAYLOAD);
  }, 120_000);

  it('migrates down and up again with data present, and rebuilds the positions from the rows', async () => {
    const knex = test.db.knex;
    // The rows recorded by the tests above.
    await migrateToLatest(test.db);
    if (dialect === 'mysql') {
      // Narrowing the payload back to TEXT would cut the wide event short: the down refuses while one is there.
      const knexLog = jest.spyOn(console, 'log').mockImplementation(() => undefined); // knex reports the failed migration
      await expect(migrateToJustBefore(test.db, WIDEN_OUTBOX_PAYLOAD)).rejects.toThrow(/too long/i);
      knexLog.mockRestore();
      expect(await payloadOf(knex, 'a-wide')).toBe(WIDE_PAYLOAD);
      await knex('outbox').where({ action_id: 'a-wide' }).delete();
    }
    const before = await rowsBeforePositions(knex);

    await migrateToJustBefore(test.db, CREATE_STOCK_POSITIONS);
    expect(await knex.schema.hasTable('stock_positions')).toBe(false);
    expect(await knex.schema.hasTable('reservations')).toBe(false);
    expect(await rowsBeforePositions(knex)).toEqual(before);

    await migrateToLatest(test.db);
    expect(await rowsBeforePositions(knex)).toEqual(before);
    const ids = await positionIds(knex);
    expect(ids).toHaveLength(EXPECTED_POSITIONS.length);
    await inTransaction(test.db, (trx) => recountPositions({ trx, positionIds: ids, nowMs: NOW }));
    expect(await positions(knex)).toEqual(EXPECTED_POSITIONS);
  }, 120_000);
});
