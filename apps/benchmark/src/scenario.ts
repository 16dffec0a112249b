import type { Scenario } from './flags';

/**
 * Stock every item-node starts with: far more than any run can reserve, so every call is a real
 * reservation and a refusal always means something went wrong.
 */
export const INITIAL_STOCK = 10_000_000;

/** The spread scenario's item-nodes: 100 items at each of 100 nodes. */
export const SPREAD_ITEMS = 100;
export const SPREAD_NODES = 100;

/** How many item-nodes (for B1 and B3: rows) a scenario reserves from. */
export function itemNodeCount(scenario: Scenario): number {
  return scenario === 'spread' ? SPREAD_ITEMS * SPREAD_NODES : 1;
}

/**
 * The scenario whose B1 and B3 measurements stand for `scenario`. The baselines know no segments: for
 * them hot-borrow is hot (one row), so they are measured once for both.
 */
export function baselineScenario(scenario: Scenario): Scenario {
  return scenario === 'hot-borrow' ? 'hot' : scenario;
}

/** The segment hot-borrow reserves in: it has no supply of its own and may borrow from the pool without limit. */
export const BORROWING_SEGMENT = { segmentType: 'BENCH', segment: 'BORROWER' } as const;

/** The item-node (0-based) the next call reserves from: always the one in hot, a uniformly random one in spread. */
export function pickItemNode(count: number): number {
  return count === 1 ? 0 : Math.floor(Math.random() * count);
}
