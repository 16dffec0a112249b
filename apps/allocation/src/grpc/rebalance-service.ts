import type * as pb from '@inventory/contracts';
import { InvalidArgumentError } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { RebalanceRuns } from '../inventory/rebalance-runs';
import { fromItemNodeAllocation, fromRebalanceRun, toRunState } from './rebalancing-translate';

export function rebalanceServiceHandlers(runs: RebalanceRuns, logger: Logger): pb.RebalanceServiceServer {
  return {
    rebalance: unary('Rebalance', logger, async (req: pb.RebalanceRequest) => {
      const answer = await runs.rebalance(req);
      return {
        run: answer.run ? fromRebalanceRun(answer.run) : undefined,
        itemNodes: answer.itemNodes.map(fromItemNodeAllocation),
        nextPageToken: answer.nextPageToken,
      };
    }),
    getRebalanceRun: unary('GetRebalanceRun', logger, async (req: pb.GetRebalanceRunRequest) => ({
      run: fromRebalanceRun(await runs.get(req.runId)),
    })),
    listRebalanceRuns: unary('ListRebalanceRuns', logger, async (req: pb.ListRebalanceRunsRequest) => {
      const state = req.state === 0 ? undefined : toRunState(req.state);
      if (req.state !== 0 && !state)
        throw new InvalidArgumentError([{ field: 'state', description: 'is not a run state' }]);
      const { items, nextPageToken } = await runs.list(
        { segmentType: req.segmentType, state },
        req.pageSize,
        req.pageToken,
      );
      return { runs: items.map(fromRebalanceRun), nextPageToken };
    }),
    cancelRebalanceRun: unary('CancelRebalanceRun', logger, async (req: pb.CancelRebalanceRunRequest) => ({
      run: fromRebalanceRun(await runs.cancel(req.runId)),
    })),
  };
}
