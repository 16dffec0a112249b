/**
 * Real databases for tests: a fresh SQLite file, and a fresh MariaDB/MySQL database when
 * INVENTORY_TEST_MYSQL_URL names a server (its database part is only used to connect).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import {
  demandCounts,
  isUnsegmented,
  loanOf,
  mayBorrowNow,
  ownOf,
  positionKeyId,
  supplyCountsAsOf,
  TAKING_HOLD_STATE,
  type HoldState,
  type PositionCounts,
  type PositionKey,
} from '@inventory/domain';
import { openDatabase, parseDatabaseUrl, type Database, type Dialect } from './database';
import { readConsumptionRules } from './operations/consumption-rules';
import { DEMAND } from './operations/demand';
import { readPositions } from './operations/positions';
import { POSITION_KEY_COLUMNS, positionKeyOf, type PositionKeyColumns } from './tables/position-key';
import { findQuantities } from './operations/quantities';
import { SUPPLY } from './operations/supply';

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
    return {
      dialect,
      url,
      db,
      drop: async () => {
        await db.knex.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
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
 * Positions whose running totals or loans differ from the rows they summarise. Totals are counted by the
 * domain's rule (supply that counts at `nowMs`, demand types that count, held units); loans as
 * {@link loansDisagreeingWithRows} says. Positions are a cache kept by deltas; after any race it must
 * still add up.
 */
export async function positionsDisagreeingWithRows(db: Knex, nowMs = Date.now()): Promise<unknown[]> {
  const counted = await countedFromRows(db, nowMs);
  const wrong: unknown[] = [];
  for (const { key, position, expected } of counted) {
    const actual = { supply: position.supply, demand: position.demand, reserved: position.reserved };
    if (JSON.stringify(expected) !== JSON.stringify(actual))
      wrong.push({ item: key.item.itemId, node: key.nodeId, segment: segmentName(key), expected, actual });
  }
  return [...wrong, ...(await loansDisagreeing(db, counted))];
}

/**
 * Positions whose loans disagree with the rows: a segment position's loan must be what the domain's
 * `loanOf` makes of the segment's counts from its rows under the consumption rules in force (for a segment
 * that may borrow, max(0, demand + reserved - supply); for one that may not any more, no more than that),
 * and the pool's position's loan the sum of its segments' loans at that item and node.
 */
export async function loansDisagreeingWithRows(db: Knex, nowMs = Date.now()): Promise<unknown[]> {
  return loansDisagreeing(db, await countedFromRows(db, nowMs));
}

interface Counted {
  readonly key: PositionKey;
  readonly position: { supply: number; demand: number; reserved: number; loan: number };
  /** The position's counts as its rows give them. */
  readonly expected: PositionCounts;
}

async function countedFromRows(db: Knex, nowMs: number): Promise<Counted[]> {
  const rows: PositionKeyColumns[] = await db('stock_positions').select(POSITION_KEY_COLUMNS);
  const keys = rows.map(positionKeyOf);
  const positions = await readPositions({ db, keys });
  const counted: Counted[] = [];
  for (const key of keys) {
    const where = { db, item: key.item, nodeIds: [key.nodeId], segment: key.segment };
    const supply = (await findQuantities(SUPPLY, where)).filter((s) => supplyCountsAsOf(s.key, nowMs));
    const demand = (await findQuantities(DEMAND, where)).filter((d) => demandCounts(d.key.demandType));
    const p = positions.get(positionKeyId(key))!;
    const holds: Array<{ quantity: number; state: HoldState }> = await db('reservation_holds')
      .where({ position_id: p.positionId })
      .select('quantity', 'state');
    const expected = {
      supply: sum(supply.map((s) => s.quantity)),
      demand: sum(demand.map((d) => d.quantity)),
      reserved: sum(holds.filter((h) => h.state === TAKING_HOLD_STATE).map((h) => h.quantity)),
    };
    counted.push({ key, position: p, expected });
  }
  return counted;
}

async function loansDisagreeing(db: Knex, counted: readonly Counted[]): Promise<unknown[]> {
  const rules = await readConsumptionRules({ db });
  const itemNodeOf = (k: PositionKey) => JSON.stringify([k.item, k.nodeId]);
  const lent = new Map<string, number>();
  const wrong: unknown[] = [];
  for (const { key, position, expected } of counted) {
    if (isUnsegmented(key.segment)) continue;
    lent.set(itemNodeOf(key), (lent.get(itemNodeOf(key)) ?? 0) + position.loan);
    const loan = loanOf(ownOf(expected), position.loan, mayBorrowNow(rules, key.segment));
    if (loan !== position.loan)
      wrong.push({
        item: key.item.itemId,
        node: key.nodeId,
        segment: segmentName(key),
        loan,
        actualLoan: position.loan,
      });
  }
  const pools = new Map(counted.filter((c) => isUnsegmented(c.key.segment)).map((c) => [itemNodeOf(c.key), c]));
  for (const [itemNode, loans] of lent) {
    const pool = pools.get(itemNode);
    if ((pool?.position.loan ?? 0) !== loans)
      wrong.push({ itemNode, segment: 'POOL', loan: loans, actualLoan: pool ? pool.position.loan : 'no position' });
  }
  for (const [itemNode, pool] of pools)
    if (!lent.has(itemNode) && pool.position.loan !== 0)
      wrong.push({ itemNode, segment: 'POOL', loan: 0, actualLoan: pool.position.loan });
  return wrong;
}

const segmentName = (key: PositionKey) =>
  isUnsegmented(key.segment) ? 'POOL' : `${key.segment.segmentType}/${key.segment.segment}`;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
