import type * as pb from '@inventory/contracts';
import {
  withholdsSafetyStock,
  type AvailabilityFigures,
  type AvailabilityQueryInput,
  type BorrowingTerms,
  type NodeAvailability,
} from '@inventory/domain';
import { serverStream, unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { AvailabilityReader } from '../inventory/availability-reader';
import type { AvailabilityWatches } from '../inventory/availability-watches';
import { fromBorrowLimit, fromMs, fromSegment, fromSupplyKey, toItemKey, toMs, toSegment } from './translate';

export function availabilityServiceHandlers(
  reader: AvailabilityReader,
  watches: AvailabilityWatches,
  logger: Logger,
): pb.AvailabilityServiceServer {
  return {
    watchAvailability: serverStream('WatchAvailability', logger, (req: pb.WatchAvailabilityRequest, send, call) =>
      watches.watch(req, send, call),
    ),
    getNodeAvailability: unary('GetNodeAvailability', logger, async (req: pb.GetNodeAvailabilityRequest) => {
      const result = await reader.availability(queryOf(req, req.asOfTime));
      return { availability: fromNodeAvailability(result.nodes[0] as NodeAvailability) };
    }),
    getNetworkAvailability: unary('GetNetworkAvailability', logger, async (req: pb.GetNetworkAvailabilityRequest) => {
      const result = await reader.availability(queryOf(req, req.asOfTime));
      return {
        availability: {
          distributionGroupId: req.distributionGroupId,
          available: result.available,
          shortage: result.shortage,
          nodes: result.nodes.map(fromNodeAvailability),
          ownAvailable: result.ownAvailable,
          borrowable: result.borrowable,
          borrowed: result.borrowed,
          lent: result.lent,
          consumptionRulesVersion: result.rulesVersion,
        },
      };
    }),
    getAvailabilityByDate: unary('GetAvailabilityByDate', logger, async (req: pb.GetAvailabilityByDateRequest) => {
      const result = await reader.byDate(queryOf(req, req.horizonTime));
      return {
        currentAvailable: result.current.available,
        currentShortage: result.current.shortage,
        currentOwnAvailable: result.current.ownAvailable,
        currentBorrowable: result.current.borrowable,
        currentBorrowed: result.current.borrowed,
        currentLent: result.current.lent,
        consumptionRulesVersion: result.rulesVersion,
        buckets: result.buckets.map((b) => ({
          bucketTime: fromMs(b.bucketMs),
          incomingQuantity: b.incoming,
          ...fromFigures(b),
        })),
      };
    }),
    explainAvailability: unary('ExplainAvailability', logger, async (req: pb.ExplainAvailabilityRequest) => {
      const result = await reader.availability(queryOf(req, req.asOfTime));
      return {
        available: result.available,
        shortage: result.shortage,
        nodes: result.nodes.map((n) => ({
          availability: fromNodeAvailability(n),
          supplies: n.contributions.map((c) => ({
            key: fromSupplyKey(c.supply.key),
            quantity: c.supply.quantity,
            counted: c.counted,
            reason: c.reason,
          })),
          safetyStockSource: withholdsSafetyStock(n.segment)
            ? SAFETY_STOCK_SOURCE[n.safetyStock.level]
            : SAFETY_STOCK_IN_THE_POOL,
          loans: n.loans.map((l) => ({ segment: fromSegment(l.segment), quantity: l.quantity })),
          borrowing: fromBorrowingTerms(n.borrowing),
        })),
      };
    }),
  };
}

/** The fields every availability request shares; node-only requests have no group and vice versa. */
interface ScopedRequest {
  item?: pb.ItemKey;
  nodeId?: string;
  distributionGroupId?: string;
  segment?: pb.SegmentKey;
}

function queryOf(req: ScopedRequest, time: Date | undefined): AvailabilityQueryInput {
  return {
    item: toItemKey(req.item),
    nodeId: req.nodeId,
    distributionGroupId: req.distributionGroupId,
    segment: toSegment(req.segment),
    asOfMs: toMs(time),
  };
}

const SAFETY_STOCK_SOURCE = {
  NONE: 'no safety stock rule applies',
  ITEM: 'the item-level rule',
  ITEM_NODE: 'the rule for the item at this node',
} as const;

const SAFETY_STOCK_IN_THE_POOL =
  'none in the segment: safety stock is withheld once, on the unsegmented pool, and bounds what may be borrowed';

function fromFigures(f: AvailabilityFigures): Omit<pb.AvailabilityBucket, 'bucketTime' | 'incomingQuantity'> {
  return {
    available: f.available,
    shortage: f.shortage,
    ownAvailable: f.ownAvailable,
    borrowable: f.borrowable,
    borrowed: f.borrowed,
    lent: f.lent,
  };
}

function fromNodeAvailability(n: NodeAvailability): pb.NodeAvailability {
  return {
    nodeId: n.nodeId,
    ...fromFigures(n),
    onhandQuantity: n.onhand,
    futureSupplyQuantity: n.futureSupply,
    demandQuantity: n.demand,
    reservedQuantity: n.reserved,
    safetyStockQuantity: n.safetyStock.quantity,
    borrowLimit: fromBorrowLimit(n.limitedBy),
    consumptionRulesVersion: n.rulesVersion,
  };
}

function fromBorrowingTerms(t: BorrowingTerms): pb.BorrowingTerms {
  return {
    consumptionRulesVersion: t.rulesVersion,
    borrowingEnabled: t.borrowingEnabled,
    mayBorrow: t.rule?.mayBorrow ?? false,
    capQuantity: t.rule?.capQuantity ?? undefined,
    capRatioPpm: t.rule?.capRatioPpm ?? undefined,
    capRatioQuantity: t.capRatioQuantity ?? undefined,
    keepInPool: t.rule?.keepInPool ?? undefined,
    poolSupplyQuantity: t.poolSupply,
    poolFreeQuantity: t.poolFree,
    poolSafetyStockQuantity: t.poolSafetyStock,
  };
}
