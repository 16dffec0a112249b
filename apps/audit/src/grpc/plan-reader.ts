import type * as pb from '@inventory/contracts';
import type { PlanTargets, SupplyType } from '@inventory/domain';
import type { PlanReader, PlanVersion } from '../audit/compliance-checks';
import { callInventory as call } from './inventory-calls';
import { itemOf, supplyTypeOf } from './translate';

/** What the plans say, read from the allocation app: its plans, segment types, and rebalance dry runs. */
export class InventoryPlanReader implements PlanReader {
  constructor(
    private readonly rebalance: pb.RebalanceServiceClient,
    private readonly plans: pb.AllocationPlanServiceClient,
    private readonly segments: pb.SegmentServiceClient,
  ) {}

  async plan(segmentType: string): Promise<PlanVersion> {
    const { plan } = await call(this.plans.getAllocationPlan.bind(this.plans), { segmentType, version: 0 });
    return {
      version: plan?.version ?? 0,
      createMs: plan?.createTime?.getTime() ?? 0,
      ruleEffectiveFromMs: new Map(
        (plan?.rules ?? []).map((r) => [r.ruleId, r.conditions?.effectiveFromTime?.getTime()]),
      ),
    };
  }

  async dryRun(
    segmentType: string,
    scope: { itemIds: readonly string[]; nodeIds: readonly string[]; pageSize: number; pageToken: string },
  ): Promise<{ itemNodes: PlanTargets[]; nextPageToken: string }> {
    const res = await call(this.rebalance.rebalance.bind(this.rebalance), {
      requestId: '',
      segmentType,
      itemIds: [...scope.itemIds],
      nodeIds: [...scope.nodeIds],
      dryRun: true,
      actor: '',
      pageSize: scope.pageSize,
      pageToken: scope.pageToken,
    });
    return { itemNodes: res.itemNodes.map(targetsOf), nextPageToken: res.nextPageToken };
  }

  async segmentTypes(): Promise<string[]> {
    const types: string[] = [];
    let pageToken = '';
    do {
      const page = await call(this.segments.listSegmentTypes.bind(this.segments), { pageSize: 1000, pageToken });
      types.push(...page.segmentTypes.map((t) => t.segmentType));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return types;
  }
}

function targetsOf(a: pb.ItemNodeAllocation): PlanTargets {
  return {
    item: itemOf(a.item),
    nodeId: a.nodeId,
    ruleId: a.ruleId,
    planVersion: a.planVersion,
    participants: a.supplyTypes.flatMap((t) => {
      const supplyType = supplyTypeOf(t.supplyType);
      if (!supplyType) return [];
      return t.segments.map((s) => ({
        segment: { segmentType: s.segment?.segmentType ?? '', segment: s.segment?.segment ?? '' },
        supplyType: supplyType as SupplyType,
        actual: s.before,
        planned: s.after,
      }));
    }),
  };
}
