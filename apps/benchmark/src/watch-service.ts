/**
 * The watch scenario on the real service: its node and items with supply through NodeService and
 * SupplyService, watches through AvailabilityService.WatchAvailability, changes through
 * SupplyService.AdjustSupply (+1 ONHAND on the item, unsegmented).
 */
import type { Channel } from '@grpc/grpc-js';
import {
  AvailabilityServiceClient,
  NodeServiceClient,
  NodeType,
  SupplyLineOutcome,
  SupplyServiceClient,
  SupplyType,
  type SupplyKey,
} from '@inventory/contracts';
import { callUnary, clientOn } from './grpc-client';
import type { ServiceUnderTest } from './service';
import type { Commit } from './watch-latency';
import { WATCH_NODE, WATCH_SEED_SUPPLY, watchItemId, watchRequest } from './watch-messages';
import type { WatchTarget } from './watchers';

/** The most supply lines one SyncSupply call may carry. */
const SYNC_BATCH = 1000;

/** The seeding's source time: well before any change, so that no adjust is dated at or before it. */
const SEED_AGE_MS = 60 * 60 * 1000;

/** The ONHAND supply of `item` at the scenario's node, in the unsegmented pool. */
function supplyKey(item: number): SupplyKey {
  return {
    item: { itemId: watchItemId(item), unitOfMeasure: '', productClass: '' },
    nodeId: WATCH_NODE,
    segment: { segmentType: '', segment: '' },
    supplyType: SupplyType.SUPPLY_TYPE_ONHAND,
    etaTime: undefined,
  };
}

/** Creates the scenario's node and syncs {@link WATCH_SEED_SUPPLY} units ONHAND of each of its `items` items there. */
export async function seedWatchItems(service: ServiceUnderTest, items: number, tag: string): Promise<void> {
  const nodes = service.client(NodeServiceClient);
  await callUnary(nodes.createNode.bind(nodes), {
    requestId: `watch-${tag}-node`,
    node: {
      nodeId: WATCH_NODE,
      nodeType: NodeType.NODE_TYPE_DC,
      description: 'benchmark watch',
      createTime: undefined,
    },
  });
  const supply = service.client(SupplyServiceClient);
  const sourceTime = new Date(Date.now() - SEED_AGE_MS);
  for (let first = 0; first < items; first += SYNC_BATCH) {
    const lines = Array.from({ length: Math.min(SYNC_BATCH, items - first) }, (_, i) => ({
      key: supplyKey(first + i),
      quantity: WATCH_SEED_SUPPLY,
      sourceTime,
    }));
    await callUnary(supply.syncSupply.bind(supply), { requestId: `watch-${tag}-supply-${first}`, lines });
  }
}

/** Watches through AvailabilityService.WatchAvailability, one client per channel. */
export function serviceWatchTarget(service: ServiceUnderTest): WatchTarget {
  return {
    address: service.address,
    watchOn: (channel: Channel) => {
      const client = clientOn(AvailabilityServiceClient, channel);
      return (item) => client.watchAvailability(watchRequest(item));
    },
  };
}

/**
 * A change is one AdjustSupply of +1 on the item, dated now; it resolves to the quantity after it (the
 * position's supply: the item has no other supply there). A line the service did not apply is a failure.
 */
export function serviceCommit(service: ServiceUnderTest, tag: string): Commit {
  const supply = service.client(SupplyServiceClient);
  const adjust = supply.adjustSupply.bind(supply);
  return async (item, sequence) => {
    const answer = await callUnary(adjust, {
      requestId: `watch-${tag}-change-${sequence}`,
      lines: [{ key: supplyKey(item), quantityDelta: 1, sourceTime: new Date(), reason: 'RECEIPT' }],
    });
    const result = answer.results[0];
    if (result?.outcome !== SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED)
      throw new Error(`AdjustSupply did not apply: ${result ? SupplyLineOutcome[result.outcome] : 'no result'}`);
    return result.quantityAfter;
  };
}
