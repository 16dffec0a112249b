/**
 * Seeds the rebalance scenario's supply straight into the service's database: its `supply` rows and, in the
 * same transaction, the `stock_positions` rows that total them, written as the service writes a position that
 * supply created (counted supply = the ONHAND quantity, nothing pending by ETA, no demand, holds or loan).
 * Through SyncSupply the seeding ran at about 625 lines/s here (100,000 item-nodes: over 13 minutes, and
 * calls past the client's deadline); this takes seconds. The checks before the run verify the positions
 * against the rows. Written against the store's schema: whoever changes those tables adjusts the SQL here.
 */
import type { Connection } from 'mysql2/promise';
import {
  itemNodeAt,
  PARTICIPANTS,
  REBALANCE_SEGMENT_TYPE,
  seededQuantities,
  type RebalanceLayout,
} from './rebalance-plan';

/** Item-nodes per INSERT: 5,000 rows of each table. */
const BATCH = 1000;

/** The service's "no ETA pending" (the domain's MAX_TIME_MS, 9999-12-31T23:59:59.999Z). */
const NO_ETA_PENDING_MS = 253_402_300_799_999;

export async function seedRebalanceSupply(db: Connection, layout: RebalanceLayout): Promise<void> {
  const nowMs = Date.now();
  await db.beginTransaction();
  try {
    for (let first = 0; first < layout.itemNodes; first += BATCH) {
      const supply: unknown[][] = [];
      const positions: unknown[][] = [];
      for (let i = first; i < Math.min(first + BATCH, layout.itemNodes); i++) {
        const { itemId, nodeId } = itemNodeAt(layout, i);
        seededQuantities(i).forEach((quantity, j) => {
          const segment = PARTICIPANTS[j]!;
          const key = [itemId, '', '', nodeId, segment === '' ? '' : REBALANCE_SEGMENT_TYPE, segment];
          supply.push([...key, 'ONHAND', 0, quantity, nowMs, nowMs]);
          positions.push([...key, quantity, 0, 0, 0, NO_ETA_PENDING_MS]);
        });
      }
      await db.query(
        `INSERT INTO supply (item_id, unit_of_measure, product_class, node_id, segment_type, segment,
                             supply_type, eta_ms, quantity, last_sync_ms, updated_ms) VALUES ?`,
        [supply],
      );
      await db.query(
        `INSERT INTO stock_positions (item_id, unit_of_measure, product_class, node_id, segment_type, segment,
                                      supply, demand, reserved, loan, next_eta_ms) VALUES ?`,
        [positions],
      );
    }
    await db.commit();
  } catch (err) {
    await db.rollback();
    throw err;
  }
  // Fresh statistics, so that MariaDB plans the rebalance's reads with the key indexes from the first page.
  await db.query('ANALYZE TABLE supply, stock_positions');
}
