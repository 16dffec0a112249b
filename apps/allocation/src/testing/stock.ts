/** Small builders for tests that set up stock and reserve it. */
import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { promisify, type Clients } from './harness';

export const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: '', productClass: '' });

export async function createNodes(clients: Clients, nodeIds: readonly string[]): Promise<void> {
  for (const nodeId of nodeIds) {
    await clients.nodes.createNode({
      requestId: `node-${nodeId}`,
      node: { nodeId, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
    });
  }
}

/** Defines segments (and their types) through SegmentService, so that requests may name them. */
export async function defineSegments(address: string, keys: readonly pb.SegmentKey[]): Promise<void> {
  const client = new pb.SegmentServiceClient(address, credentials.createInsecure());
  const segments = promisify(client);
  try {
    for (const segmentType of new Set(keys.map((k) => k.segmentType)))
      await segments.createSegmentType({
        requestId: `define-type-${segmentType}`,
        segmentType: { segmentType, description: '', createTime: undefined },
      });
    for (const key of keys)
      await segments.createSegment({
        requestId: `define-segment-${key.segmentType}-${key.segment}`,
        segment: {
          ...key,
          description: '',
          state: pb.SegmentState.SEGMENT_STATE_UNSPECIFIED,
          createTime: undefined,
          updateTime: undefined,
          retireTime: undefined,
        },
      });
  } finally {
    client.close();
  }
}

let syncs = 0;
/** Sets ONHAND supply of items at nodes, as of now. */
export async function onhand(
  clients: Clients,
  lines: ReadonlyArray<{ itemId: string; nodeId: string; quantity: number }>,
): Promise<void> {
  await clients.supply.syncSupply({
    requestId: `onhand-${++syncs}-${Date.now()}`,
    lines: lines.map((l) => ({
      key: {
        item: item(l.itemId),
        nodeId: l.nodeId,
        segment: undefined,
        supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
        etaTime: undefined,
      },
      quantity: l.quantity,
      sourceTime: new Date(),
    })),
  });
}

/** A reservation line at a node. */
export const atNode = (itemId: string, nodeId: string, quantity: number): pb.ReservationLine => ({
  item: item(itemId),
  nodeId,
  distributionGroupId: undefined,
  segment: undefined,
  quantity,
  allowSplit: false,
});

/** A reservation line across a distribution group. */
export const inGroup = (
  itemId: string,
  distributionGroupId: string,
  quantity: number,
  allowSplit = false,
): pb.ReservationLine => ({
  item: item(itemId),
  nodeId: undefined,
  distributionGroupId,
  segment: undefined,
  quantity,
  allowSplit,
});

export async function available(
  clients: Clients,
  itemId: string,
  nodeId: string,
): Promise<pb.NodeAvailability | undefined> {
  const res = await clients.availability.getNodeAvailability({
    item: item(itemId),
    nodeId,
    segment: undefined,
    asOfTime: undefined,
  });
  return res.availability;
}
