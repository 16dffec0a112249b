import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import type { ErrorCategory } from '@inventory/domain';
import { errorDetails } from '@inventory/grpc-server';
import type { CountAdjustment, SupplyAdjuster } from '../audit/cycle-counts';
import { InventoryRefusedError, InventoryUnavailableError } from '../audit/errors';

const DEADLINE_MS = 30_000;

const CATEGORY_OF: Partial<Record<status, ErrorCategory>> = {
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [status.OUT_OF_RANGE]: 'OUT_OF_RANGE',
  [status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
};

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

/** The allocation app's error as this app reports it: its refusals passed on, anything else UNAVAILABLE. */
function refusalOf(err: ServiceError): Error {
  const category = CATEGORY_OF[err.code];
  if (!category) return new InventoryUnavailableError(`${status[err.code]}: ${err.details}`);
  const info = errorDetails(err).errorInfo;
  return new InventoryRefusedError(category, info?.reason ?? status[err.code], err.details, info?.metadata ?? {});
}
