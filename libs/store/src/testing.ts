/**
 * Real databases for tests: a fresh SQLite file, and a fresh MariaDB/MySQL database when
 * INVENTORY_TEST_MYSQL_URL names a server (its database part is only used to connect).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
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
