/** The rebalance scenario's part of the report: its target and its Markdown table for BENCHMARKS.md. */
import type { RebalanceMeasurement, RebalanceSide } from './rebalance';

/** The issue's target: the service rebalances at least half as many item-nodes per second as the raw baseline. */
const TARGET_RATIO = 0.5;

export interface RebalanceGoal {
  readonly name: string;
  readonly status: 'PASS' | 'MISS';
  readonly detail: string;
}

export function rebalanceGoals(measurements: readonly RebalanceMeasurement[]): RebalanceGoal[] {
  return measurements.map((m) => {
    const ratio = m.service.itemNodesPerSecond / m.baseline.itemNodesPerSecond;
    return {
      name: `rebalance page ${m.pageSize}: service >= ${TARGET_RATIO} x raw baseline item-nodes/s`,
      status: ratio >= TARGET_RATIO ? 'PASS' : 'MISS',
      detail: `${rate(m.service.itemNodesPerSecond)}/s vs baseline ${rate(m.baseline.itemNodesPerSecond)}/s (${ratio.toFixed(2)}x)`,
    };
  });
}

export function rebalanceMarkdown(measurements: readonly RebalanceMeasurement[]): string[] {
  if (measurements.length === 0) return [];
  const n = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
  const row = (m: RebalanceMeasurement, label: string, side: RebalanceSide, ratio: string) => {
    const d = side.databasePerItemNode;
    return `| ${m.pageSize} | ${label} | ${rate(side.itemNodesPerSecond)} | ${n(side.seconds)} | ${ratio} | ${n(side.serverCpuSeconds)} | ${n(d?.statements, 2)} | ${n(d?.selects, 2)} | ${n(d?.inserts, 2)} | ${n(d?.updates, 2)} | ${n(d?.callsPerCommit, 0)} |`;
  };
  const first = measurements[0]!;
  return [
    '| Page size | Target | Item-nodes/s | Seconds | vs baseline | Server CPU s | DB statements/item-node | SELECT | INSERT | UPDATE | item-nodes/COMMIT |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...measurements.flatMap((m) => [
      row(m, 'Raw mysql2 baseline (no rules)', m.baseline, '1.00x'),
      row(
        m,
        'Service Rebalance (background run)',
        m.service,
        `${(m.service.itemNodesPerSecond / m.baseline.itemNodesPerSecond).toFixed(2)}x`,
      ),
    ]),
    '',
    `- ${rate(first.itemNodes)} item-nodes (${rate(Math.min(100, first.itemNodes))} nodes), each with ONHAND in 4 segments of one segment type and the unsegmented pool; one FIXED rule over every node (40/30/15/10 %, pool 5 %). One item-node in ten starts as the rule gives; the others change ${rate(first.rowsChanged)} supply rows in all. Seeded in SQL, supply rows and their stock positions together (${measurements.map((m) => `${n(m.seedSeconds)} s`).join(', ')}), after the nodes, segments and plan through the API.`,
    '- Service: one RebalanceService.Rebalance over every item-node, timed until GetRebalanceRun (polled every 50 ms) says SUCCEEDED; the run works page by page, one transaction a page (INVENTORY_REBALANCE_PAGE_SIZE), each move an audited supply adjust with its ledger record, position update and events.',
    '- Baseline: one mysql2 connection on a copy of the same seeded rows, one transaction a page of the same size: SELECT DISTINCT the next item-nodes, SELECT ... FOR UPDATE their supply rows, one multi-row INSERT ... ON DUPLICATE KEY UPDATE of the changed rows; the split computed inline, nothing else written.',
    '- Both are checked in the database afterwards: every item-node holds what the rule gives and its total is unchanged; for the service also its stock positions, the run counts and two ledger records per move naming the run.',
    '- DB statements are MariaDB global Com_* counters over the timed window per item-node (every client counts, the run polling included).',
  ];
}

function rate(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
