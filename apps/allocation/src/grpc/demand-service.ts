import type * as pb from '@inventory/contracts';
import { parseDemandAdjust, parseDemandSync, type DemandKey, type SourceTimeLimit } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { QuantityLedger } from '../inventory/quantity-ledger';
import { fromDemand, fromDemandLineResult, toDemandKeyInput, toItemKey, toMs, toSegment } from './translate';

/** `sourceTimeLimit` says, at each call, how far ahead of the server's clock a source time may be. */
export function demandServiceHandlers(
  ledger: QuantityLedger<DemandKey>,
  sourceTimeLimit: () => SourceTimeLimit,
  logger: Logger,
): pb.DemandServiceServer {
  return {
    syncDemand: unary('SyncDemand', logger, async (req: pb.SyncDemandRequest) => {
      const cmd = parseDemandSync({
        requestId: req.requestId,
        sourceTimeLimit: sourceTimeLimit(),
        lines: req.lines.map((l) => ({
          key: toDemandKeyInput(l.key),
          quantity: l.quantity,
          sourceMs: toMs(l.sourceTime),
        })),
      });
      return { results: (await ledger.sync('SyncDemand', cmd)).map(fromDemandLineResult) };
    }),
    adjustDemand: unary('AdjustDemand', logger, async (req: pb.AdjustDemandRequest) => {
      const cmd = parseDemandAdjust({
        requestId: req.requestId,
        sourceTimeLimit: sourceTimeLimit(),
        lines: req.lines.map((l) => ({
          key: toDemandKeyInput(l.key),
          delta: l.quantityDelta,
          sourceMs: toMs(l.sourceTime),
          reason: l.reason,
        })),
      });
      return { results: (await ledger.adjust('AdjustDemand', cmd)).map(fromDemandLineResult) };
    }),
    getDemand: unary('GetDemand', logger, async (req: pb.GetDemandRequest) => ({
      demands: (await ledger.get(toItemKey(req.item), req.nodeId, toSegment(req.segment))).map(fromDemand),
    })),
    listDemand: unary('ListDemand', logger, async (req: pb.ListDemandRequest) => {
      const { items, nextPageToken } = await ledger.list(
        { nodeId: req.nodeId, itemId: req.itemId, segment: req.segment && toSegment(req.segment) },
        req.pageSize,
        req.pageToken,
      );
      return { demands: items.map(fromDemand), nextPageToken };
    }),
  };
}
