/**
 * Real databases for tests: a fresh SQLite file, and a fresh MariaDB/MySQL database when
 * INVENTORY_TEST_MYSQL_URL names a server (its database part is only used to connect).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { openDatabase, parseDatabaseUrl, type Database, type Dialect } from './database';

export const MYSQL_TEST_URL = process.env['INVENTORY_TEST_MYSQL_URL'] ?? '';

export interface TestDatabase {
  readonly dialect: Dialect;
  readonly url: string;
  readonly db: Database;
  /** Closes the pool and removes the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-test-'));
    const url = `sqlite:${join(dir, 'inventory.sqlite')}`;
    const db = openDatabase(parseDatabaseUrl(url));
    return { dialect, url, db, drop: async () => { await db.knex.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const name = `inventory_test_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'mysql2', connection: MYSQL_TEST_URL });
  try {
    // The server's default collation, as an operator's database would have: the migrations must not rely on it.
    await admin.raw(`CREATE DATABASE \`${name}\``);
  } finally {
    await admin.destroy();
  }
  const server = new URL(MYSQL_TEST_URL);
  server.pathname = `/${name}`;
  const url = server.toString();
  const db = openDatabase(parseDatabaseUrl(url), { poolSize: 20 });
  return {
    dialect,
    url,
    db,
    drop: async () => {
      await db.knex.raw(`DROP DATABASE \`${name}\``);
      await db.knex.destroy();
    },
  };
}

/** The dialects to run database tests against: SQLite always, MySQL when a server is configured. */
export const TEST_DIALECTS: readonly Dialect[] = MYSQL_TEST_URL ? ['sqlite', 'mysql'] : ['sqlite'];

/**
 * Declares the same suite once per database. Without INVENTORY_TEST_MYSQL_URL the MySQL copy is declared
 * skipped, so the run's summary counts it as skipped instead of hiding it.
 */
export function describeEachDatabase(title: string, suite: (dialect: Dialect) => void): void {
  for (const dialect of TEST_DIALECTS) describe(`${title} [${dialect}]`, () => suite(dialect));
  if (!MYSQL_TEST_URL) {
    describe.skip(`${title} [mysql: skipped, INVENTORY_TEST_MYSQL_URL is not set]`, () => {
      it('runs against MariaDB/MySQL', () => undefined);
    });
  }
}

/**
 * Positions whose running totals differ from the rows they summarise (supply due now, counted demand,
 * HELD holds). Positions are a cache kept by deltas; after any race it must still add up.
 */
export async function positionsDisagreeingWithRows(db: Knex): Promise<unknown[]> {
  const nowMs = Date.now();
  const positions = await db('stock_positions');
  const wrong: unknown[] = [];
  for (const p of positions) {
    const key = { item_id: p.item_id, unit_of_measure: p.unit_of_measure, product_class: p.product_class, node_id: p.node_id, segment_type: p.segment_type, segment: p.segment };
    const supply = await db('supply').where(key).where((q) => q.where({ supply_type: 'ONHAND' }).orWhere((f) => f.whereNot({ supply_type: 'PLAN' }).andWhere('eta_ms', '<=', nowMs))).sum({ n: 'quantity' }).first();
    const demand = await db('demand').where(key).whereNot({ demand_type: 'PLAN' }).sum({ n: 'quantity' }).first();
    const reserved = await db('reservation_holds').where({ position_id: p.position_id, state: 'HELD' }).sum({ n: 'quantity' }).first();
    const expected = { supply: Number(supply?.n ?? 0), demand: Number(demand?.n ?? 0), reserved: Number(reserved?.n ?? 0) };
    const actual = { supply: Number(p.supply), demand: Number(p.demand), reserved: Number(p.reserved) };
    if (JSON.stringify(expected) !== JSON.stringify(actual)) wrong.push({ item: p.item_id, node: p.node_id, expected, actual });
  }
  return wrong;
}
