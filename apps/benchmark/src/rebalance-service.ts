/**
 * The rebalance scenario on the real service: nodes, segments and the plan defined through its APIs, then
 * (once the supply is seeded: rebalance-seed.ts) one RebalanceService.Rebalance over every item-node, timed
 * until its run has SUCCEEDED.
 */
import {
  AllocationPlanServiceClient,
  NodeServiceClient,
  NodeType,
  RebalanceRunState,
  RebalanceServiceClient,
  SegmentServiceClient,
  SegmentState,
  type RebalanceRun,
} from '@inventory/contracts';
import { sleep } from './child-server';
import { callUnary } from './grpc-client';
import { connect } from './mysql';
import { REBALANCE_SEGMENT_TYPE, REBALANCE_SEGMENTS, RULE_SHARES, type RebalanceLayout } from './rebalance-plan';
import type { ServiceUnderTest } from './service';
import { readStatementCounts, type StatementCounts } from './statement-counts';

/** How often the run is read while it works. */
const POLL_MS = 50;

/** A rebalance run and what it cost, measured from the Rebalance call until the run was read SUCCEEDED. */
export interface TimedRebalance {
  readonly seconds: number;
  readonly run: RebalanceRun;
  /** The service process's CPU over the same window; undefined where /proc cannot say. */
  readonly serverCpuSeconds?: number;
  /** MariaDB's statement counters over the same window. */
  readonly statements?: { readonly from: StatementCounts; readonly until: StatementCounts };
}

/** Creates the nodes, the segment type and its segments, and the plan with its one FIXED rule over every node. */
export async function defineRebalancePlan(service: ServiceUnderTest, layout: RebalanceLayout, tag: string) {
  const nodes = service.client(NodeServiceClient);
  for (const nodeId of layout.nodeIds)
    await callUnary(nodes.createNode.bind(nodes), {
      requestId: `rb-${tag}-node-${nodeId}`,
      node: { nodeId, nodeType: NodeType.NODE_TYPE_DC, description: 'benchmark rebalance', createTime: undefined },
    });
  const segments = service.client(SegmentServiceClient);
  await callUnary(segments.createSegmentType.bind(segments), {
    requestId: `rb-${tag}-segment-type`,
    segmentType: { segmentType: REBALANCE_SEGMENT_TYPE, description: 'benchmark rebalance', createTime: undefined },
  });
  for (const segment of REBALANCE_SEGMENTS)
    await callUnary(segments.createSegment.bind(segments), {
      requestId: `rb-${tag}-segment-${segment}`,
      segment: {
        segmentType: REBALANCE_SEGMENT_TYPE,
        segment,
        description: 'benchmark rebalance',
        state: SegmentState.SEGMENT_STATE_UNSPECIFIED,
        createTime: undefined,
        updateTime: undefined,
        retireTime: undefined,
      },
    });
  const plans = service.client(AllocationPlanServiceClient);
  await callUnary(plans.setAllocationPlan.bind(plans), {
    requestId: `rb-${tag}-plan`,
    plan: {
      segmentType: REBALANCE_SEGMENT_TYPE,
      version: 0,
      rules: [
        {
          ruleId: 'every-node',
          rank: 1,
          // A rule must set a condition: every node of the scenario.
          conditions: { itemIds: [], nodeIds: [...layout.nodeIds], productClass: undefined },
          strategy: {
            fixed: {},
            segments: RULE_SHARES.map(([participant, basisPoints]) => ({
              segment: { segmentType: participant === '' ? '' : REBALANCE_SEGMENT_TYPE, segment: participant },
              basisPoints,
            })),
            window: undefined,
          },
        },
      ],
      enabled: true,
      requestId: '',
    },
  });
}

/**
 * Rebalances every item-node of the segment type (one Rebalance call: a background run beyond 100 item-nodes)
 * and reads the run until it has SUCCEEDED. Throws if it ends in another state.
 */
export async function timeRebalance(service: ServiceUnderTest, mysqlUrl: string, tag: string): Promise<TimedRebalance> {
  const client = service.client(RebalanceServiceClient);
  const getRun = client.getRebalanceRun.bind(client);
  const status = await connect(mysqlUrl);
  try {
    const from = await readStatementCounts(status).catch(() => undefined);
    const cpuFrom = service.cpuSeconds();
    const started = performance.now();
    const answer = await callUnary(client.rebalance.bind(client), {
      requestId: `rb-${tag}-rebalance`,
      segmentType: REBALANCE_SEGMENT_TYPE,
      itemIds: [],
      nodeIds: [],
      dryRun: false,
      actor: 'benchmark',
      pageSize: 0,
      pageToken: '',
    });
    let run = answer.run!;
    while (run.state === RebalanceRunState.REBALANCE_RUN_STATE_RUNNING) {
      await sleep(POLL_MS);
      run = (await callUnary(getRun, { runId: run.runId })).run!;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuUntil = service.cpuSeconds();
    const until = await readStatementCounts(status).catch(() => undefined);
    if (run.state !== RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED)
      throw new Error(`the rebalance run ended ${RebalanceRunState[run.state]}: ${run.error}`);
    return {
      seconds,
      run,
      ...(cpuFrom !== undefined && cpuUntil !== undefined && { serverCpuSeconds: cpuUntil - cpuFrom }),
      ...(from && until && { statements: { from, until } }),
    };
  } finally {
    await status.end();
  }
}
