import type * as pb from '@inventory/contracts';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { AllocationPlanBook } from '../inventory/allocation-plan-book';
import { fromAllocationPlanVersion, toAllocationPlanInput } from './allocation-plans-translate';

export function allocationPlanServiceHandlers(
  book: AllocationPlanBook,
  logger: Logger,
): pb.AllocationPlanServiceServer {
  return {
    setAllocationPlan: unary('SetAllocationPlan', logger, async (req: pb.SetAllocationPlanRequest) => ({
      plan: fromAllocationPlanVersion(await book.set(req.requestId, toAllocationPlanInput(req.plan))),
    })),
    getAllocationPlan: unary('GetAllocationPlan', logger, async (req: pb.GetAllocationPlanRequest) => ({
      plan: fromAllocationPlanVersion(await book.get(req.segmentType, req.version)),
    })),
    listAllocationPlans: unary('ListAllocationPlans', logger, async (req: pb.ListAllocationPlansRequest) => {
      const { items, nextPageToken } = await book.listCurrent(req.pageSize, req.pageToken);
      return { plans: items.map(fromAllocationPlanVersion), nextPageToken };
    }),
    listAllocationPlanVersions: unary(
      'ListAllocationPlanVersions',
      logger,
      async (req: pb.ListAllocationPlanVersionsRequest) => {
        const { items, nextPageToken } = await book.listVersions(req.segmentType, req.pageSize, req.pageToken);
        return { plans: items.map(fromAllocationPlanVersion), nextPageToken };
      },
    ),
  };
}
