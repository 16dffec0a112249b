/**
 * The rebalance scenario's baseline: the database's own cost of the same work with no rules, no ledger, no
 * positions and no events. On a copy of the seeded supply rows, page by page in item-node order and with the
 * service's page size, one transaction each: list the page's item-nodes, SELECT ... FOR UPDATE their supply
 * rows, and write the rows the split changes in one multi-row INSERT ... ON DUPLICATE KEY UPDATE.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { BASELINE_DATABASE, connect } from './mysql';
import { PARTICIPANTS, REBALANCE_SEGMENT_TYPE, split, type Participant } from './rebalance-plan';
import { readStatementCounts, type StatementCounts } from './statement-counts';

/** The baseline's copy of the seeded `supply` table, in {@link BASELINE_DATABASE}. */
export const RAW_REBALANCE_TABLE = 'rebalance_supply';

const KEY_COLUMNS = ['item_id', 'unit_of_measure', 'product_class', 'node_id'] as const;

interface ItemNodeRow extends RowDataPacket {
  item_id: string;
  unit_of_measure: string;
  product_class: string;
  node_id: string;
}

interface SupplyRow extends ItemNodeRow {
  supply_id: number;
  segment_type: string;
  segment: Participant;
  supply_type: string;
  eta_ms: number;
  quantity: number;
}

export interface RawRebalance {
  readonly seconds: number;
  readonly itemNodes: number;
  readonly rowsChanged: number;
  readonly statements?: { readonly from: StatementCounts; readonly until: StatementCounts };
}

/** Replaces the baseline's table with a copy of the service database's `supply` rows, indexes included. */
export async function copySeededSupply(serverUrl: string, serviceDatabase: string): Promise<void> {
  const conn = await connect(serverUrl, BASELINE_DATABASE);
  try {
    await conn.query(`DROP TABLE IF EXISTS ${RAW_REBALANCE_TABLE}`);
    await conn.query(`CREATE TABLE ${RAW_REBALANCE_TABLE} LIKE \`${serviceDatabase}\`.supply`);
    await conn.query(`INSERT INTO ${RAW_REBALANCE_TABLE} SELECT * FROM \`${serviceDatabase}\`.supply`);
  } finally {
    await conn.end();
  }
}

/** Rebalances the copy page by page on one connection, as the service's run worker does; times it. */
export async function measureRawRebalance(serverUrl: string, pageSize: number): Promise<RawRebalance> {
  const conn = await connect(serverUrl, BASELINE_DATABASE);
  try {
    const from = await readStatementCounts(conn).catch(() => undefined);
    const started = performance.now();
    let cursor: ItemNodeRow | undefined;
    let itemNodes = 0;
    let rowsChanged = 0;
    for (;;) {
      await conn.beginTransaction();
      const page = await listItemNodes(conn, cursor, pageSize);
      rowsChanged += await rebalancePage(conn, page);
      await conn.commit();
      itemNodes += page.length;
      cursor = page.at(-1) ?? cursor;
      if (page.length < pageSize) break;
    }
    const seconds = (performance.now() - started) / 1000;
    const until = await readStatementCounts(conn).catch(() => undefined);
    return { seconds, itemNodes, rowsChanged, ...(from && until && { statements: { from, until } }) };
  } finally {
    await conn.end();
  }
}

/**
 * The next `limit` item-nodes with supply of the segment type or the pool, after `after`, in item-node order.
 * The keyset condition is spelled out column by column: MariaDB 10.11 does not range-scan an index for a row
 * comparison `(a, b, c, d) > (?, ?, ?, ?)`, and with it each page scans the index from its start.
 */
async function listItemNodes(conn: Connection, after: ItemNodeRow | undefined, limit: number): Promise<ItemNodeRow[]> {
  const [rows] = await conn.query<ItemNodeRow[]>(
    `SELECT DISTINCT ${KEY_COLUMNS.join(', ')} FROM ${RAW_REBALANCE_TABLE}
      WHERE segment_type IN (?, '') ${after ? `AND (${AFTER_KEY})` : ''}
      ORDER BY ${KEY_COLUMNS.join(', ')} LIMIT ?`,
    [REBALANCE_SEGMENT_TYPE, ...(after ? afterKeyValues(after) : []), limit],
  );
  return rows;
}

/** `(item_id, unit_of_measure, product_class, node_id) > (?, ?, ?, ?)` as a condition an index range serves. */
const AFTER_KEY = KEY_COLUMNS.map(
  (c, i) => `(${[...KEY_COLUMNS.slice(0, i).map((e) => `${e} = ?`), `${c} > ?`].join(' AND ')})`,
).join(' OR ');

/** The values for {@link AFTER_KEY}'s placeholders, in order. */
function afterKeyValues(after: ItemNodeRow): string[] {
  return KEY_COLUMNS.flatMap((_, i) => KEY_COLUMNS.slice(0, i + 1).map((c) => after[c]));
}

/** Locks the page's rows, splits each item-node's supply of each type, writes the changed rows; returns their count. */
async function rebalancePage(conn: Connection, page: readonly ItemNodeRow[]): Promise<number> {
  if (page.length === 0) return 0;
  const [rows] = await conn.query<SupplyRow[]>(
    `SELECT supply_id, ${KEY_COLUMNS.join(', ')}, segment_type, segment, supply_type, eta_ms, quantity
       FROM ${RAW_REBALANCE_TABLE}
      WHERE (${KEY_COLUMNS.join(', ')}) IN (?) AND segment_type IN (?, '')
      ORDER BY supply_id FOR UPDATE`,
    [page.map((n) => KEY_COLUMNS.map((c) => n[c])), REBALANCE_SEGMENT_TYPE],
  );
  const pools = new Map<string, SupplyRow[]>();
  for (const row of rows) {
    const id = JSON.stringify([...KEY_COLUMNS.map((c) => row[c]), row.supply_type]);
    pools.set(id, [...(pools.get(id) ?? []), row]);
  }
  const changed: SupplyRow[] = [];
  for (const pool of pools.values()) {
    const after = split(pool.reduce((sum, r) => sum + Number(r.quantity), 0));
    for (const row of pool) {
      const quantity = after[PARTICIPANTS.indexOf(row.segment)]!;
      if (quantity !== Number(row.quantity)) changed.push({ ...row, quantity });
    }
  }
  if (changed.length === 0) return 0;
  const nowMs = Date.now();
  await conn.query(
    `INSERT INTO ${RAW_REBALANCE_TABLE}
       (supply_id, ${KEY_COLUMNS.join(', ')}, segment_type, segment, supply_type, eta_ms, quantity, updated_ms)
     VALUES ? ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), updated_ms = VALUES(updated_ms)`,
    [
      changed.map((r) => [
        r.supply_id,
        ...KEY_COLUMNS.map((c) => r[c]),
        r.segment_type,
        r.segment,
        r.supply_type,
        r.eta_ms,
        r.quantity,
        nowMs,
      ]),
    ],
  );
  return changed.length;
}
