/**
 * Baseline B3: the typical way to reserve, without gRPC. Per reservation, on its own pooled connection:
 * `BEGIN; SELECT qty ... FOR UPDATE; UPDATE qty; INSERT the reservation; COMMIT`. On one hot row every
 * transaction holds the row lock across four round trips, which is what the service has to beat.
 */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { check, type Check } from './check';
import type { Scenario } from './flags';
import { runClosedLoop, type LoadPlan, type LoadResult } from './load';
import { BASELINE_DATABASE, connect, describeMysqlFailure, openPool, OutOfStock, seedStockRows } from './mysql';
import { INITIAL_STOCK, itemNodeCount, pickItemNode } from './scenario';

const STOCK = 'bench_b3_stock';
const RESERVATIONS = 'bench_b3_reservations';

interface StockRow extends RowDataPacket {
  id: number;
  qty: number;
}

interface ReservedRow extends RowDataPacket {
  stock_id: number;
  n: number;
}

export async function measureSelectForUpdate(
  serverUrl: string,
  scenario: Scenario,
  plan: LoadPlan,
): Promise<{ load: LoadResult; checks: Check[] }> {
  const rows = itemNodeCount(scenario);
  const admin = await connect(serverUrl, BASELINE_DATABASE);
  const pool = openPool(serverUrl, BASELINE_DATABASE, plan.callers);
  try {
    await admin.query(`DROP TABLE IF EXISTS ${RESERVATIONS}`);
    await admin.query(`DROP TABLE IF EXISTS ${STOCK}`);
    await admin.query(`CREATE TABLE ${STOCK} (id INT NOT NULL PRIMARY KEY, qty BIGINT NOT NULL) ENGINE=InnoDB`);
    await admin.query(
      `CREATE TABLE ${RESERVATIONS} (
         reservation_id VARCHAR(128) NOT NULL PRIMARY KEY,
         stock_id INT NOT NULL,
         quantity BIGINT NOT NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         KEY bench_b3_reservations_stock_ix (stock_id)
       ) ENGINE=InnoDB`,
    );
    await seedStockRows(admin, STOCK, rows, INITIAL_STOCK);

    const prefix = `b3-${scenario}-${Date.now().toString(36)}-`;
    const load = await runClosedLoop(
      plan,
      (caller, sequence) => reserveOne(pool, pickItemNode(rows) + 1, `${prefix}${caller}-${sequence}`),
      describeMysqlFailure,
    );

    const [stock] = await admin.query<StockRow[]>(`SELECT id, qty FROM ${STOCK} ORDER BY id`);
    const [reserved] = await admin.query<ReservedRow[]>(
      `SELECT stock_id, SUM(quantity) AS n FROM ${RESERVATIONS} GROUP BY stock_id`,
    );
    const reservedByRow = new Map(reserved.map((r) => [r.stock_id, Number(r.n)]));
    const insertedTotal = reserved.reduce((a, r) => a + Number(r.n), 0);
    const wrong = stock.filter((r) => r.qty !== INITIAL_STOCK - (reservedByRow.get(r.id) ?? 0));
    const negative = stock.filter((r) => r.qty < 0);
    return {
      load,
      checks: [
        check(
          `b3 ${scenario}: reservation rows = successes`,
          insertedTotal === load.totalSuccesses,
          `${insertedTotal} rows, ${load.totalSuccesses} successes`,
        ),
        check(
          `b3 ${scenario}: qty = initial - reserved, per row`,
          wrong.length === 0 && stock.length === rows,
          `${rows} rows, ${wrong.length} off`,
        ),
        check(
          `b3 ${scenario}: qty >= 0`,
          negative.length === 0,
          `lowest qty ${stock.reduce((low, r) => Math.min(low, r.qty), Infinity)}`,
        ),
      ],
    };
  } finally {
    await pool.end();
    await admin.end();
  }
}

/** One reservation of one unit, as a typical service would write it. */
async function reserveOne(pool: Pool, stockId: number, reservationId: string): Promise<void> {
  const conn: PoolConnection = await pool.getConnection();
  try {
    await conn.query('BEGIN');
    const [rows] = await conn.execute<StockRow[]>(`SELECT id, qty FROM ${STOCK} WHERE id = ? FOR UPDATE`, [stockId]);
    if (rows.length !== 1 || rows[0].qty < 1) throw new OutOfStock();
    await conn.execute(`UPDATE ${STOCK} SET qty = qty - ? WHERE id = ?`, [1, stockId]);
    await conn.execute(`INSERT INTO ${RESERVATIONS} (reservation_id, stock_id, quantity) VALUES (?, ?, ?)`, [
      reservationId,
      stockId,
      1,
    ]);
    await conn.query('COMMIT');
  } catch (err) {
    // The connection goes back to the pool clean; if even ROLLBACK fails, the connection is broken anyway.
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}
