import type * as pb from '@inventory/contracts';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { ConsumptionRuleBook } from '../inventory/consumption-rule-book';
import { fromConsumptionRulesVersion, toSegmentRule } from './consumption-rules-translate';

export function consumptionRuleServiceHandlers(
  book: ConsumptionRuleBook,
  logger: Logger,
): pb.ConsumptionRuleServiceServer {
  return {
    setConsumptionRules: unary('SetConsumptionRules', logger, async (req: pb.SetConsumptionRulesRequest) => ({
      consumptionRules: fromConsumptionRulesVersion(
        await book.set({
          requestId: req.requestId,
          borrowingEnabled: req.borrowingEnabled,
          segments: req.segments.map(toSegmentRule),
        }),
      ),
    })),
    getConsumptionRules: unary('GetConsumptionRules', logger, async (req: pb.GetConsumptionRulesRequest) => ({
      consumptionRules: fromConsumptionRulesVersion(await book.get(req.version)),
    })),
    listConsumptionRuleVersions: unary(
      'ListConsumptionRuleVersions',
      logger,
      async (req: pb.ListConsumptionRuleVersionsRequest) => {
        const { items, nextPageToken } = await book.list(req.pageSize, req.pageToken);
        return { consumptionRules: items.map(fromConsumptionRulesVersion), nextPageToken };
      },
    ),
  };
}
