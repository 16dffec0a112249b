import * as pb from '@inventory/contracts';
import type { CountAdjustment, CountInventory } from '../audit/cycle-counts';
import { callInventory } from './inventory-calls';

/** What cycle counts ask of the allocation app: whether a node exists, and to post adjustments. */
export class InventoryCounts implements CountInventory {
  constructor(
    private readonly nodes: pb.NodeServiceClient,
    private readonly supply: pb.SupplyServiceClient,
  ) {}

  async requireNode(nodeId: string): Promise<void> {
    await callInventory(this.nodes.getNode.bind(this.nodes), { nodeId });
  }

  async adjust(requestId: string, actor: string, lines: readonly CountAdjustment[]): Promise<void> {
    await callInventory(this.supply.adjustSupply.bind(this.supply), {
      requestId,
      purpose: pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT,
      actor,
      lines: lines.map((line) => ({
        key: {
          item: { ...line.item },
          nodeId: line.nodeId,
          segment: undefined,
          supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
          etaTime: undefined,
        },
        quantityDelta: line.delta,
        sourceTime: new Date(line.sourceMs),
        reason: 'CYCLE_COUNT',
      })),
    });
  }
}
