import type * as pb from '@inventory/contracts';
import type { AvailabilityQueryInput, NodeAvailability } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { AvailabilityReader } from '../inventory/availability-reader';
import { fromMs, fromSupplyKey, toItemKey, toMs, toSegment } from './translate';

export function availabilityServiceHandlers(reader: AvailabilityReader, logger: Logger): pb.AvailabilityServiceServer {
  return {
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
        },
      };
    }),
    getAvailabilityByDate: unary('GetAvailabilityByDate', logger, async (req: pb.GetAvailabilityByDateRequest) => {
      const result = await reader.byDate(queryOf(req, req.horizonTime));
      return {
        currentAvailable: result.current.available,
        currentShortage: result.current.shortage,
        buckets: result.buckets.map((b) => ({
          bucketTime: fromMs(b.bucketMs),
          incomingQuantity: b.incoming,
          available: b.available,
          shortage: b.shortage,
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
          safetyStockSource: SAFETY_STOCK_SOURCE[n.safetyStock.level],
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

function fromNodeAvailability(n: NodeAvailability): pb.NodeAvailability {
  return {
    nodeId: n.nodeId,
    available: n.available,
    shortage: n.shortage,
    onhandQuantity: n.onhand,
    futureSupplyQuantity: n.futureSupply,
    demandQuantity: n.demand,
    reservedQuantity: n.reserved,
    safetyStockQuantity: n.safetyStock.quantity,
  };
}
