/**
 * Baseline B1: the database's own limit for one row. Each reservation is one autocommit
 * `UPDATE ... SET qty = qty - 1 WHERE id = ? AND qty >= 1`: no transaction around it, nothing recorded,
 * no network hop besides the database's. No reservation service on one row can go faster than this.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { check, type Check } from './check';
import type { Scenario } from './flags';
import { runClosedLoop, type LoadPlan, type LoadResult } from './load';
import { BASELINE_DATABASE, connect, describeMysqlFailure, openPool, OutOfStock, seedStockRows } from './mysql';
import { INITIAL_STOCK, itemNodeCount, pickItemNode } from './scenario';

const TABLE = 'bench_b1';

interface StockRow extends RowDataPacket {
  id: number;
  qty: number;
}

export async function measureRawUpdate(
  serverUrl: string,
  scenario: Scenario,
  plan: LoadPlan,
): Promise<{ load: LoadResult; checks: Check[] }> {
  const rows = itemNodeCount(scenario);
  const admin = await connect(serverUrl, BASELINE_DATABASE);
  const pool = openPool(serverUrl, BASELINE_DATABASE, plan.callers);
  try {
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.query(`CREATE TABLE ${TABLE} (id INT NOT NULL PRIMARY KEY, qty BIGINT NOT NULL) ENGINE=InnoDB`);
    await seedStockRows(admin, TABLE, rows, INITIAL_STOCK);

    // Successes per row, to prove each row lost exactly what was reserved from it.
    const reserved = new Uint32Array(rows);
    const load = await runClosedLoop(
      plan,
      async () => {
        const row = pickItemNode(rows);
        const [result] = await pool.execute<ResultSetHeader>(
          `UPDATE ${TABLE} SET qty = qty - 1 WHERE id = ? AND qty >= 1`,
          [row + 1],
        );
        if (result.affectedRows !== 1) throw new OutOfStock();
        reserved[row]++;
      },
      describeMysqlFailure,
    );

    const [final] = await admin.query<StockRow[]>(`SELECT id, qty FROM ${TABLE} ORDER BY id`);
    const wrong = final.filter((r) => r.qty !== INITIAL_STOCK - reserved[r.id - 1]);
    const negative = final.filter((r) => r.qty < 0);
    const reservedTotal = reserved.reduce((a, b) => a + b, 0);
    const remaining = final.reduce((a, r) => a + r.qty, 0);
    return {
      load,
      checks: [
        check(
          `b1 ${scenario}: qty = initial - successes, per row`,
          wrong.length === 0 && final.length === rows && reservedTotal === load.totalSuccesses,
          `${rows} rows, ${load.totalSuccesses} successes, ${rows * INITIAL_STOCK - remaining} units gone, ${wrong.length} rows off`,
        ),
        check(
          `b1 ${scenario}: qty >= 0`,
          negative.length === 0,
          `lowest qty ${final.reduce((low, r) => Math.min(low, r.qty), Infinity)}`,
        ),
      ],
    };
  } finally {
    await pool.end();
    await admin.end();
  }
}
