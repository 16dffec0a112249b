import { Metadata } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import type { CountAdjustment, SupplyAdjuster } from '../audit/cycle-counts';
import { refusalOf } from './inventory-errors';

const DEADLINE_MS = 30_000;

/** Posts cycle count adjustments through the allocation app's SupplyService.AdjustSupply. */
export class InventoryAdjuster implements SupplyAdjuster {
  constructor(private readonly client: pb.SupplyServiceClient) {}

  adjust(requestId: string, actor: string, lines: readonly CountAdjustment[]): Promise<void> {
    const request: pb.AdjustSupplyRequest = {
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
    };
    return new Promise((resolve, reject) =>
      this.client.adjustSupply(request, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err) =>
        err ? reject(refusalOf(err)) : resolve(),
      ),
    );
  }
}
