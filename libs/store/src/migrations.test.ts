import { migrateAllDown, migrateToLatest } from './database';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './testing';

const TABLES = [
  'nodes',
  'distribution_groups',
  'distribution_group_nodes',
  'safety_stock',
  'supply',
  'supply_ledger',
  'outbox',
  'idempotency_keys',
  'demand',
  'demand_ledger',
  'stock_positions',
  'reservations',
  'reservation_holds',
  'leases',
  'segment_types',
  'segments',
  'consumption_rule_versions',
  'allocation_plan_versions',
  'rebalance_runs',
  'rebalance_schedules',
  'outbox_cursors',
  'rebalance_detections',
  'change_stream_state',
];

describeEachDatabase('migrations', (dialect) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await test.drop();
  });

  async function existing(): Promise<string[]> {
    const found: string[] = [];
    for (const table of TABLES) if (await test.db.knex.schema.hasTable(table)) found.push(table);
    return found;
  }

  it('migrates up, all the way down, and up again', async () => {
    await migrateToLatest(test.db);
    expect(await existing()).toEqual(TABLES);
    await migrateAllDown(test.db);
    expect(await existing()).toEqual([]);
    await migrateToLatest(test.db);
    expect(await existing()).toEqual(TABLES);
  }, 120_000);
});
