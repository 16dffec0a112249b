import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations';

export type Dialect = 'sqlite' | 'mysql';

/** A connection URL, parsed: `sqlite:<file>`, `sqlite::memory:` or `mysql://user:pass@host:port/database`. */
export interface DatabaseTarget {
  readonly dialect: Dialect;
  readonly url: string;
}

export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
}

/** Parses a database URL; throws a message that names the problem. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    if (url.length === 'sqlite:'.length) throw new Error('sqlite URL needs a file path, e.g. sqlite:data/inventory.sqlite');
    return { dialect: 'sqlite', url };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const parsed = new URL(url);
    if (parsed.pathname.length <= 1) throw new Error('mysql URL needs a database name, e.g. mysql://root@127.0.0.1:3306/inventory');
    return { dialect: 'mysql', url };
  }
  throw new Error(`unsupported database URL "${redact(url)}": use sqlite:<file> or mysql://user:pass@host:port/database`);
}

/** Opens a connection pool. Nothing is queried until the first call. */
export function openDatabase(target: DatabaseTarget, options: { poolSize?: number } = {}): Database {
  return { knex: target.dialect === 'sqlite' ? openSqlite(target.url) : openMysql(target.url, options.poolSize ?? 10), dialect: target.dialect };
}

/** Applies every pending migration. */
export async function migrateToLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest({ migrationSource });
}

/** Rolls back every migration (used by tests to prove each `down` undoes its `up`). */
export async function migrateAllDown(db: Database): Promise<void> {
  await db.knex.migrate.rollback({ migrationSource }, true);
}

function openSqlite(url: string): Knex {
  const filename = url.slice('sqlite:'.length);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return knex({
    client: 'better-sqlite3',
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

function openMysql(url: string, poolSize: number): Knex {
  const parsed = new URL(url);
  return knex({
    client: 'mysql2',
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
      afterCreate: (conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) => {
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
