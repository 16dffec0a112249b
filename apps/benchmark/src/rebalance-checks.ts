/**
 * The rebalance scenario's checks, straight in the database, written against the store's schema:
 * `supply(item_id, node_id, segment_type, segment, supply_type, quantity)` (the baseline's copy has the same
 * columns), `stock_positions(..., supply)` and `supply_ledger(related_action_id, purpose, quantity)`. Whoever changes
 * those tables adjusts the SQL here.
 */
import type { RebalanceRun } from '@inventory/contracts';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { check, type Check } from './check';
import {
  itemNodeAt,
  itemNodeId,
  PARTICIPANTS,
  REBALANCE_SEGMENT_TYPE,
  seededQuantities,
  split,
  type ExpectedChanges,
  type Participant,
  type RebalanceLayout,
} from './rebalance-plan';

interface SupplyRow extends RowDataPacket {
  item_id: string;
  node_id: string;
  segment: Participant;
  quantity: number;
}

interface CountRow extends RowDataPacket {
  n: number | string;
}

interface LedgerRow extends CountRow {
  received: number | string;
  net: number | string;
}

/** How an item-node's ONHAND in `table` compares with the seed and with the rule. */
export interface SupplyComparison {
  /** ONHAND rows of the segment type and the pool, and item-nodes among them the scenario never seeded. */
  readonly rows: number;
  readonly strayItemNodes: number;
  /** Item-nodes whose participants do not hold what the rule gives (a missing row counts as 0). */
  readonly offRule: number;
  /** Item-nodes whose total differs from the seeded total. */
  readonly totalChanged: number;
  /** The first few item-nodes off the rule, for the reader. */
  readonly examples: readonly string[];
}

/** Reads every ONHAND row of the segment type and the pool in `table` and compares each item-node. */
export async function compareSupply(db: Connection, table: string, layout: RebalanceLayout): Promise<SupplyComparison> {
  const [rows] = await db.query<SupplyRow[]>(
    `SELECT item_id, node_id, segment, quantity FROM \`${table}\`
      WHERE segment_type IN (?, '') AND supply_type = 'ONHAND'`,
    [REBALANCE_SEGMENT_TYPE],
  );
  const held = new Map<string, number[]>();
  for (const r of rows) {
    const id = itemNodeId(r.item_id, r.node_id);
    const quantities = held.get(id) ?? PARTICIPANTS.map(() => 0);
    quantities[PARTICIPANTS.indexOf(r.segment)] = Number(r.quantity);
    held.set(id, quantities);
  }
  let offRule = 0;
  let totalChanged = 0;
  const examples: string[] = [];
  for (let i = 0; i < layout.itemNodes; i++) {
    const { itemId, nodeId } = itemNodeAt(layout, i);
    const id = itemNodeId(itemId, nodeId);
    const now = held.get(id) ?? PARTICIPANTS.map(() => 0);
    held.delete(id);
    const seededTotal = seededQuantities(i).reduce((a, b) => a + b, 0);
    const total = now.reduce((a, b) => a + b, 0);
    const expected = split(seededTotal);
    if (total !== seededTotal) totalChanged++;
    if (now.some((q, j) => q !== expected[j])) {
      offRule++;
      if (examples.length < 3)
        examples.push(`${id} holds [${now.join(', ')}], the rule gives [${expected.join(', ')}]`);
    }
  }
  return { rows: rows.length, strayItemNodes: [...held.values()].length, offRule, totalChanged, examples };
}

/**
 * Before the rebalance: the seeded rows are all there and exactly the item-nodes the scenario seeded off the
 * rule are found off it (so the same comparison after the run can fail).
 */
export function seededChecks(name: string, c: SupplyComparison, layout: RebalanceLayout, expected: ExpectedChanges) {
  return [
    check(
      `${name}: seeded off the rule as planned`,
      c.rows === layout.itemNodes * PARTICIPANTS.length &&
        c.strayItemNodes === 0 &&
        c.offRule === expected.itemNodesChanged,
      `${c.rows} rows; ${c.offRule} of ${layout.itemNodes} item-nodes off the rule (${expected.itemNodesChanged} seeded so)`,
    ),
  ];
}

/** After the rebalance: every item-node holds what the rule gives, and its total is what was seeded. */
export function rebalancedChecks(name: string, c: SupplyComparison, layout: RebalanceLayout): Check[] {
  return [
    check(
      `${name}: every item-node holds what the rule gives`,
      c.offRule === 0 && c.strayItemNodes === 0,
      c.offRule === 0
        ? `${layout.itemNodes} item-nodes, ${c.rows} rows, all as the rule gives`
        : `${c.offRule} item-nodes off: ${c.examples.join('; ')}`,
    ),
    check(
      `${name}: each item-node's total unchanged`,
      c.totalChanged === 0 && c.rows === layout.itemNodes * PARTICIPANTS.length,
      `${c.totalChanged} item-nodes changed their total; ${c.rows} rows`,
    ),
  ];
}

/** Every stock position's counted supply equals the ONHAND rows it totals (all the scenario's supply is ONHAND). */
export async function positionsMatchSupply(db: Connection, name: string): Promise<Check> {
  const [[positionsOff]] = await db.query<CountRow[]>(
    // Position by position through the supply key's index. Right after the bulk seeding MariaDB's statistics
    // steer it to the (segment_type, segment) index instead, which scans every item-node per position.
    `SELECT COUNT(*) AS n FROM stock_positions p
      WHERE p.supply <> COALESCE((SELECT SUM(s.quantity) FROM supply s FORCE INDEX (supply_position_uq)
                                   WHERE s.item_id = p.item_id AND s.unit_of_measure = p.unit_of_measure
                                     AND s.product_class = p.product_class AND s.node_id = p.node_id
                                     AND s.segment_type = p.segment_type AND s.segment = p.segment
                                     AND s.supply_type = 'ONHAND'), 0)`,
  );
  return check(name, Number(positionsOff.n) === 0, `${positionsOff.n} positions off`);
}

/**
 * The service's own bookkeeping after the run: each position's counted supply still equals its ONHAND rows,
 * the run counted what the scenario changes, and every changed row has its ledger record naming the run.
 */
export async function serviceBookkeepingChecks(
  db: Connection,
  run: Pick<RebalanceRun, 'runId' | 'itemNodesTotal' | 'itemNodesChanged' | 'moves' | 'unitsMoved'>,
  layout: RebalanceLayout,
  expected: ExpectedChanges,
): Promise<Check[]> {
  // Each move is two supply adjusts, one on the giver and one on the receiver, each with its ledger record.
  const [[ledger]] = await db.query<LedgerRow[]>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN quantity > 0 THEN quantity ELSE 0 END), 0) AS received,
            COALESCE(SUM(quantity), 0) AS net
       FROM supply_ledger WHERE related_action_id = ? AND purpose = 'SEGMENT_REALLOCATION'`,
    [run.runId],
  );
  return [
    await positionsMatchSupply(db, 'rebalance service: stock positions = their ONHAND rows'),
    check(
      'rebalance service: the run counted what changed',
      run.itemNodesTotal === layout.itemNodes &&
        run.itemNodesChanged === expected.itemNodesChanged &&
        run.unitsMoved === expected.unitsMoved,
      `${run.itemNodesTotal} item-nodes (${layout.itemNodes}), ${run.itemNodesChanged} changed (${expected.itemNodesChanged}), ${run.unitsMoved} units moved (${expected.unitsMoved})`,
    ),
    check(
      'rebalance service: two ledger records per move, naming the run, netting to zero',
      Number(ledger.n) === 2 * run.moves && Number(ledger.received) === expected.unitsMoved && Number(ledger.net) === 0,
      `${ledger.n} records for ${run.moves} moves; ${ledger.received} units received (${expected.unitsMoved}), net ${ledger.net}`,
    ),
  ];
}
