import type * as pb from '@inventory/contracts';
import { levelOf } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { SafetyStockRules } from '../inventory/safety-stock-rules';
import { fromItemKey, fromSafetyStockLevel, toItemKey } from './translate';

export function safetyStockServiceHandlers(rules: SafetyStockRules, logger: Logger): pb.SafetyStockServiceServer {
  return {
    setSafetyStock: unary('SetSafetyStock', logger, async (req: pb.SetSafetyStockRequest) => {
      const rule = await rules.set({
        requestId: req.requestId,
        item: toItemKey(req.safetyStock?.item),
        nodeId: req.safetyStock?.nodeId ?? '',
        quantity: req.safetyStock?.quantity ?? 0,
      });
      return {
        safetyStock: {
          item: fromItemKey(rule.item),
          nodeId: rule.nodeId,
          quantity: rule.quantity,
          level: fromSafetyStockLevel(levelOf(rule)),
        },
      };
    }),
    getSafetyStock: unary('GetSafetyStock', logger, async (req: pb.GetSafetyStockRequest) => {
      const item = toItemKey(req.item);
      const effective = await rules.effective(item, req.nodeId);
      return {
        safetyStock: {
          item: item && fromItemKey(item),
          nodeId: req.nodeId,
          quantity: effective.quantity,
          level: fromSafetyStockLevel(effective.level),
        },
      };
    }),
    deleteSafetyStock: unary('DeleteSafetyStock', logger, async (req: pb.DeleteSafetyStockRequest) => {
      await rules.delete({ requestId: req.requestId, item: toItemKey(req.item), nodeId: req.nodeId });
      return {};
    }),
  };
}
