import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';

/** The allocation app's services the audit app calls. */
export interface InventoryClients {
  /** The change stream, on a channel of its own. */
  readonly changeStream: pb.ChangeStreamServiceClient;
  /** Unary calls (cycle counts' nodes and adjustments, compliance's plans and dry runs), sharing one channel. */
  readonly supply: pb.SupplyServiceClient;
  readonly rebalance: pb.RebalanceServiceClient;
  readonly plans: pb.AllocationPlanServiceClient;
  readonly segments: pb.SegmentServiceClient;
  readonly nodes: pb.NodeServiceClient;
  close(): void;
}

/**
 * Clients of the allocation app at `address`. The channels reconnect on their own, from 0.1 s up to
 * `reconnectMaxMs` (grpc-js would wait up to two minutes by default), so that the consumer finds the
 * allocation app soon after it is back.
 */
export function connectInventory(address: string, reconnectMaxMs: number): InventoryClients {
  const options = {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': reconnectMaxMs,
  };
  const insecure = credentials.createInsecure();
  const changeStream = new pb.ChangeStreamServiceClient(address, insecure, options);
  const supply = new pb.SupplyServiceClient(address, insecure, options);
  const shared = { channelOverride: supply.getChannel() };
  return {
    changeStream,
    supply,
    rebalance: new pb.RebalanceServiceClient(address, insecure, shared),
    plans: new pb.AllocationPlanServiceClient(address, insecure, shared),
    segments: new pb.SegmentServiceClient(address, insecure, shared),
    nodes: new pb.NodeServiceClient(address, insecure, shared),
    close: () => {
      changeStream.close();
      supply.close();
    },
  };
}
