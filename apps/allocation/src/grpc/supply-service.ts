import * as pb from '@inventory/contracts';
import { parseSupplyAdjust, parseSupplySync, type SupplyKey, type SourceTimeLimit } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { SupplySync } from '../inventory/physical-totals';
import type { QuantityLedger } from '../inventory/quantity-ledger';
import { fromItemNodeAllocation } from './rebalancing-translate';
import { fromLineResult, fromSupply, toItemKey, toMs, toSegment, toSupplyKeyInput } from './translate';

/** The purposes a caller may state on AdjustSupply; the others are the service's own. */
const ADJUST_PURPOSES: Partial<Record<pb.SupplyPurpose, 'SUPPLY_ADJUSTMENT' | 'CYCLE_COUNT'>> = {
  [pb.SupplyPurpose.SUPPLY_PURPOSE_UNSPECIFIED]: 'SUPPLY_ADJUSTMENT',
  [pb.SupplyPurpose.SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT]: 'SUPPLY_ADJUSTMENT',
  [pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT]: 'CYCLE_COUNT',
};

/** `sourceTimeLimit` says, at each call, how far ahead of the server's clock a source time may be. */
export function supplyServiceHandlers(
  ledger: QuantityLedger<SupplyKey>,
  supplySync: SupplySync,
  sourceTimeLimit: () => SourceTimeLimit,
  logger: Logger,
): pb.SupplyServiceServer {
  return {
    syncSupply: unary('SyncSupply', logger, async (req: pb.SyncSupplyRequest) => {
      const cmd = parseSupplySync({
        requestId: req.requestId,
        sourceTimeLimit: sourceTimeLimit(),
        lines: req.lines.map((l) => ({
          key: toSupplyKeyInput(l.key),
          quantity: l.quantity,
          sourceMs: toMs(l.sourceTime),
          physicalTotal: l.physicalTotal ?? false,
        })),
        skipAllocation: req.skipAllocation ?? false,
      });
      const { results, allocations } = await supplySync.sync(cmd);
      return { results: results.map(fromLineResult), allocations: allocations.map(fromItemNodeAllocation) };
    }),
    adjustSupply: unary('AdjustSupply', logger, async (req: pb.AdjustSupplyRequest) => {
      const cmd = parseSupplyAdjust({
        requestId: req.requestId,
        sourceTimeLimit: sourceTimeLimit(),
        lines: req.lines.map((l) => ({
          key: toSupplyKeyInput(l.key),
          delta: l.quantityDelta,
          sourceMs: toMs(l.sourceTime),
          reason: l.reason,
        })),
        purpose: ADJUST_PURPOSES[req.purpose ?? pb.SupplyPurpose.SUPPLY_PURPOSE_UNSPECIFIED],
        actor: req.actor ?? '',
      });
      return { results: (await ledger.adjust('AdjustSupply', cmd)).map(fromLineResult) };
    }),
    getSupply: unary('GetSupply', logger, async (req: pb.GetSupplyRequest) => ({
      supplies: (await ledger.get(toItemKey(req.item), req.nodeId, toSegment(req.segment))).map(fromSupply),
    })),
    listSupply: unary('ListSupply', logger, async (req: pb.ListSupplyRequest) => {
      const { items, nextPageToken } = await ledger.list(
        { nodeId: req.nodeId, itemId: req.itemId, segment: req.segment && toSegment(req.segment) },
        req.pageSize,
        req.pageToken,
      );
      return { supplies: items.map(fromSupply), nextPageToken };
    }),
  };
}
