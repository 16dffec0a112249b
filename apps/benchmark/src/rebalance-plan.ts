/**
 * The rebalance scenario's data, shared by the service run, the raw baseline and the checks: which item-nodes
 * exist, what each holds before the rebalance, the plan's one rule, and what that rule leaves each segment with.
 */

/** The segment type rebalanced, and its four segments in the rule's walk order. */
export const REBALANCE_SEGMENT_TYPE = 'CHANNEL';
export const REBALANCE_SEGMENTS = ['STORE', 'ONLINE', 'MARKET', 'WHOLESALE'] as const;

/** A participant of the rule: one of the segments, or '' for the unsegmented pool. */
export type Participant = (typeof REBALANCE_SEGMENTS)[number] | '';

/**
 * The plan's one FIXED rule, in walk order: basis points per participant, summing to 10000, no minimums.
 * With no commitments and no loans (the scenario creates neither), each segment ends with
 * floor(basis points x pool / 10000) and the unsegmented pool with the rest.
 */
export const RULE_SHARES: ReadonlyArray<readonly [Participant, number]> = [
  ['STORE', 4000],
  ['ONLINE', 3000],
  ['MARKET', 1500],
  ['WHOLESALE', 1000],
  ['', 500],
];

/** Every participant, in the order rows are listed and compared. */
export const PARTICIPANTS: readonly Participant[] = RULE_SHARES.map(([p]) => p);

/** The rule's item-nodes sit at this many nodes (fewer when the scenario has fewer item-nodes). */
const NODES = 100;

/**
 * One item-node in ten starts exactly where the rule would leave it, so that a rebalance must tell the
 * item-nodes it has to change from those it must leave alone.
 */
const ALREADY_BALANCED_EVERY = 10;

export interface RebalanceLayout {
  readonly itemNodes: number;
  readonly nodeIds: readonly string[];
}

export function rebalanceLayout(itemNodes: number): RebalanceLayout {
  const nodes = Math.min(NODES, itemNodes);
  return { itemNodes, nodeIds: Array.from({ length: nodes }, (_, n) => nodeId(n)) };
}

/** The i-th item-node (0-based): items take every node in turn, so the i-th is item i / nodes at node i % nodes. */
export function itemNodeAt(layout: RebalanceLayout, i: number): { itemId: string; nodeId: string } {
  const nodes = layout.nodeIds.length;
  return { itemId: `RB_ITEM_${String(Math.floor(i / nodes)).padStart(5, '0')}`, nodeId: nodeId(i % nodes) };
}

function nodeId(n: number): string {
  return `RB_NODE_${String(n).padStart(3, '0')}`;
}

/** Identifies an item-node in maps built from database rows. */
export function itemNodeId(itemId: string, nodeId: string): string {
  return `${itemId}@${nodeId}`;
}

/**
 * What the i-th item-node holds ONHAND before the rebalance, per participant in {@link PARTICIPANTS} order:
 * a total from 1,000 to 9,999 units, skewed by weights that rotate from one item-node to the next, or,
 * for one in {@link ALREADY_BALANCED_EVERY}, exactly what the rule gives.
 */
export function seededQuantities(i: number): number[] {
  const total = 1000 + ((i * 7919) % 9000);
  if (i % ALREADY_BALANCED_EVERY === 0) return split(total);
  const weights = [5, 1, 2, 3, 4];
  const sum = weights.reduce((a, b) => a + b, 0);
  const quantities = PARTICIPANTS.map((_, j) => Math.floor((total * weights[(i + j) % weights.length]!) / sum));
  quantities[quantities.length - 1]! += total - quantities.reduce((a, b) => a + b, 0);
  return quantities;
}

/**
 * What the rule leaves each participant with, in {@link PARTICIPANTS} order, out of an item-node's `total`:
 * the benchmark's own statement of the fixed walk (the oracle of the checks, and the baseline's arithmetic).
 */
export function split(total: number): number[] {
  const segments = RULE_SHARES.map(([p, bp]) => (p === '' ? 0 : Math.floor((bp * total) / 10000)));
  const pool = total - segments.reduce((a, b) => a + b, 0);
  return RULE_SHARES.map(([p], j) => (p === '' ? pool : segments[j]!));
}

/** What the rebalance of the whole scenario changes: item-nodes, supply rows and units moved. */
export interface ExpectedChanges {
  readonly itemNodesChanged: number;
  readonly rowsChanged: number;
  readonly unitsMoved: number;
}

export function expectedChanges(layout: RebalanceLayout): ExpectedChanges {
  let itemNodesChanged = 0;
  let rowsChanged = 0;
  let unitsMoved = 0;
  for (let i = 0; i < layout.itemNodes; i++) {
    const before = seededQuantities(i);
    const after = split(before.reduce((a, b) => a + b, 0));
    const changed = before.filter((q, j) => q !== after[j]).length;
    if (changed > 0) itemNodesChanged++;
    rowsChanged += changed;
    unitsMoved += before.reduce((sum, q, j) => sum + Math.max(0, after[j]! - q), 0);
  }
  return { itemNodesChanged, rowsChanged, unitsMoved };
}
