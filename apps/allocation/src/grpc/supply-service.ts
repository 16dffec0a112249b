import type * as pb from '@inventory/contracts';
import { unary, type Logger } from '@inventory/grpc-server';
import type { SupplyLedger } from '../inventory/supply-ledger';
import { fromLineResult, fromSupply, toItemKey, toMs, toSegment, toSupplyKeyInput } from './translate';

export function supplyServiceHandlers(ledger: SupplyLedger, logger: Logger): pb.SupplyServiceServer {
  return {
    syncSupply: unary('SyncSupply', logger, async (req: pb.SyncSupplyRequest) => {
      const results = await ledger.sync({
        requestId: req.requestId,
        lines: req.lines.map((l) => ({ key: toSupplyKeyInput(l.key), quantity: l.quantity, sourceMs: toMs(l.sourceTime) })),
      });
      return { results: results.map(fromLineResult) };
    }),
    adjustSupply: unary('AdjustSupply', logger, async (req: pb.AdjustSupplyRequest) => {
      const results = await ledger.adjust({
        requestId: req.requestId,
        lines: req.lines.map((l) => ({
          key: toSupplyKeyInput(l.key),
          delta: l.quantityDelta,
          sourceMs: toMs(l.sourceTime),
          reason: l.reason,
        })),
      });
      return { results: results.map(fromLineResult) };
    }),
    getSupply: unary('GetSupply', logger, async (req: pb.GetSupplyRequest) => ({
      supplies: (await ledger.get(toItemKey(req.item), req.nodeId, toSegment(req.segment))).map(fromSupply),
    })),
    listSupply: unary('ListSupply', logger, async (req: pb.ListSupplyRequest) => {
      const { items, nextPageToken } = await ledger.list({ nodeId: req.nodeId, itemId: req.itemId }, req.pageSize, req.pageToken);
      return { supplies: items.map(fromSupply), nextPageToken };
    }),
  };
}
