import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import { Notifier } from './commits';
import { fromDriverError } from './driver-errors';
import { migrationSource } from './migrations';

// Knex resolves a dialect name to one of these classes; subclassing it (below) reaches every query, inside
// a transaction or not, and every connection taken from the pool.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mysql2Client = require('knex/lib/dialects/mysql2/index.js') as typeof Knex.Client;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BetterSqlite3Client = require('knex/lib/dialects/better-sqlite3/index.js') as typeof Knex.Client;

export type Dialect = 'sqlite' | 'mysql';

/** A connection URL, parsed: `sqlite:<file>`, `sqlite::memory:` or `mysql://user:pass@host:port/database`. */
export interface DatabaseTarget {
  readonly dialect: Dialect;
  readonly url: string;
}

export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  /** Notified after each transaction of this process that wrote change events commits. */
  readonly commits: Notifier;
}

/** Parses a database URL; throws a message that names the problem. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    if (url.length === 'sqlite:'.length)
      throw new Error('sqlite URL needs a file path, e.g. sqlite:data/inventory.sqlite');
    return { dialect: 'sqlite', url };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const parsed = new URL(url);
    if (parsed.pathname.length <= 1)
      throw new Error('mysql URL needs a database name, e.g. mysql://root@127.0.0.1:3306/inventory');
    return { dialect: 'mysql', url };
  }
  throw new Error(
    `unsupported database URL "${redact(url)}": use sqlite:<file> or mysql://user:pass@host:port/database`,
  );
}

export interface DatabaseOptions {
  /** MySQL pool size (SQLite always has one connection). */
  readonly poolSize?: number;
  /**
   * Receives the driver's and pool's own complaints (a connection that broke while idle, a failed connect),
   * which are otherwise printed as plain text. The calls they affect fail with DatabaseUnavailableError.
   */
  readonly onDriverMessage?: (message: string) => void;
}

/**
 * Opens a connection pool. Nothing is queried until the first call. Every driver error that means the
 * database cannot serve a call (see driver-errors.ts) is thrown as a DatabaseUnavailableError.
 */
export function openDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Database {
  const say = options.onDriverMessage ?? ((message: string) => console.warn(message));
  const log = { warn: say, error: say, debug: () => undefined, deprecate: () => undefined };
  const knex =
    target.dialect === 'sqlite' ? openSqlite(target.url, log) : openMysql(target.url, options.poolSize ?? 10, log);
  return { knex, dialect: target.dialect, commits: new Notifier() };
}

/** Checks that the database answers and has its tables: a query that reads no row of every table. */
export async function checkDatabase(db: Database): Promise<void> {
  await db.knex.raw(CORE_TABLES.map((table) => `SELECT 1 FROM ${table} WHERE 1 = 0`).join(' UNION ALL '));
}

/** Tables every call needs; a database missing one of them is not usable. */
const CORE_TABLES = [
  'nodes',
  'distribution_groups',
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
];

/**
 * A knex client class whose queries and connection checkouts report driver errors through fromDriverError.
 * `config.client` keeps the dialect's name (`mysql2`, `better-sqlite3`), which code checking the dialect reads.
 */
function reportingDriverErrors(Base: typeof Knex.Client, name: string): typeof Knex.Client {
  return class extends Base {
    constructor(config: Knex.Config) {
      super({ ...config, client: name });
    }

    override query(connection: unknown, obj: unknown): Promise<unknown> {
      return (super.query(connection, obj) as Promise<unknown>).catch((err: unknown) => {
        throw fromDriverError(err);
      });
    }

    override async acquireConnection(): Promise<unknown> {
      try {
        return (await super.acquireConnection()) as unknown;
      } catch (err) {
        throw fromDriverError(err);
      }
    }
  };
}

/** Applies every pending migration. */
export async function migrateToLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest({ migrationSource });
}

/** Rolls back every migration (used by tests to prove each `down` undoes its `up`). */
export async function migrateAllDown(db: Database): Promise<void> {
  await db.knex.migrate.rollback({ migrationSource }, true);
}

type KnexLog = NonNullable<Knex.Config['log']>;

function openSqlite(url: string, log: KnexLog): Knex {
  const filename = url.slice('sqlite:'.length);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return knex({
    client: reportingDriverErrors(BetterSqlite3Client, 'better-sqlite3'),
    log,
    connection: { filename },
    useNullAsDefault: true,
    // SQLite has one writer at a time; one connection queues transactions in order instead of failing them.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        // Another process (a second replica on the same file) may hold the write lock briefly.
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
}

function openMysql(url: string, poolSize: number, log: KnexLog): Knex {
  const parsed = new URL(url);
  return knex({
    client: reportingDriverErrors(Mysql2Client, 'mysql2'),
    log,
    connection: {
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : 3306,
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database: decodeURIComponent(parsed.pathname.slice(1)),
      charset: 'utf8mb4',
      timezone: 'Z',
      // BIGINT columns and SUM() come back as numbers; every quantity is kept below 2^53.
      supportBigNumbers: true,
      decimalNumbers: true,
      // Lets a transaction send several statements in one round trip (see pipeline.ts); every value is
      // still a bound parameter.
      multipleStatements: true,
    },
    pool: {
      min: 0,
      max: poolSize,
      // READ COMMITTED: row locks without gap locks, so concurrent first writes to new positions do not
      // deadlock on each other's gaps; every read that decides a write locks its row explicitly.
      // Strict mode: a bad value is an error, never a silent truncation (the hold check relies on it).
      afterCreate: (
        conn: { query(sql: string, cb: (err: Error | null) => void): void },
        done: (err: Error | null, conn: unknown) => void,
      ) => {
        conn.query(
          "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))",
          (err) => done(err, conn),
        );
      },
    },
  });
}

/** A URL with its password replaced, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
