import mysql, { type Connection, type Pool, type PoolOptions } from 'mysql2/promise';

/** The database the baselines B1 and B3 keep their tables in; each run drops and recreates its tables. */
export const BASELINE_DATABASE = 'inventory_bench_baseline';

function connectionOptions(serverUrl: string, database?: string): PoolOptions {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
    charset: 'utf8mb4',
    // Quantities are BIGINT; every one stays below 2^53, so plain numbers are exact.
    supportBigNumbers: true,
    bigNumberStrings: false,
  };
}

/** One connection, for set-up and the checks. */
export function connect(serverUrl: string, database?: string): Promise<Connection> {
  return mysql.createConnection(connectionOptions(serverUrl, database));
}

/**
 * A pool of `size` connections. The baselines give it one connection per caller, so no caller ever waits
 * for a connection in the client: whatever waiting there is happens in the database.
 */
export function openPool(serverUrl: string, database: string, size: number): Pool {
  return mysql.createPool({
    ...connectionOptions(serverUrl, database),
    connectionLimit: size,
    maxIdle: size,
    waitForConnections: true,
    queueLimit: 0,
  });
}

/** Creates the baseline database if it is missing. */
export async function ensureBaselineDatabase(serverUrl: string): Promise<void> {
  const conn = await connect(serverUrl);
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${BASELINE_DATABASE}\` CHARACTER SET utf8mb4`);
  } finally {
    await conn.end();
  }
}

/** Inserts `count` rows of (id 1..count, qty) in batches of 1000. */
export async function seedStockRows(conn: Connection, table: string, count: number, qty: number): Promise<void> {
  for (let first = 1; first <= count; first += 1000) {
    const rows: [number, number][] = [];
    for (let id = first; id < first + 1000 && id <= count; id++) rows.push([id, qty]);
    await conn.query(`INSERT INTO \`${table}\` (id, qty) VALUES ?`, [rows]);
  }
}

/** Names a mysql2 error by its code (ER_LOCK_DEADLOCK, ECONNRESET, ...). */
export function describeMysqlFailure(error: unknown): string {
  if (error instanceof OutOfStock) return 'OUT_OF_STOCK';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/** The row had no unit left: the reservation is refused, as the service would refuse it. */
export class OutOfStock extends Error {
  constructor() {
    super('out of stock');
  }
}
