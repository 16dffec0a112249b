import type * as pb from '@inventory/contracts';
import type { ItemNodeCompliance } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { ComplianceChecks } from '../audit/compliance-checks';
import { toSupplyType } from './translate';

export function complianceServiceHandlers(
  checks: ComplianceChecks,
  logger: Logger,
): pb.auditV1.ComplianceServiceServer {
  return {
    getSegmentationCompliance: unary(
      'GetSegmentationCompliance',
      logger,
      async (req: pb.auditV1.GetSegmentationComplianceRequest) => {
        const page = await checks.check({
          segmentType: req.segmentType,
          itemIds: req.itemIds,
          nodeIds: req.nodeIds,
          includeCompliant: req.includeCompliant,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return {
          itemNodes: page.itemNodes.map(toItemNode),
          nextPageToken: page.nextPageToken,
          checkTime: new Date(page.checkMs),
        };
      },
    ),
  };
}

function toItemNode(n: ItemNodeCompliance): pb.auditV1.ItemNodeCompliance {
  return {
    item: { ...n.item },
    nodeId: n.nodeId,
    ruleId: n.ruleId,
    planVersion: n.planVersion,
    compliant: n.compliant,
    segments: n.participants.map((p) => ({
      segment: { ...p.segment },
      supplyType: toSupplyType(p.supplyType),
      actualQuantity: p.actual,
      plannedQuantity: p.planned,
      deviation: p.deviation,
      deviatingSince: p.sinceMs === undefined ? undefined : new Date(p.sinceMs),
    })),
  };
}
