import * as pb from '@inventory/contracts';
import { InvalidArgumentError, itemKey, type StockHistoryPoint, type SupplyAuditRecord } from '@inventory/domain';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { SupplyAudit } from '../audit/supply-audit';
import { purposeOf, supplyTypeOf, toAuditRecord, toAuditType, toPurpose } from './translate';

type Server = pb.auditV1.AuditServiceServer;

export function auditServiceHandlers(audit: SupplyAudit, logger: Logger): Server {
  return {
    listSupplyAudit: unary('ListSupplyAudit', logger, async (req: pb.auditV1.ListSupplyAuditRequest) => {
      const result = await audit.list(
        {
          itemId: req.itemId || undefined,
          nodeId: req.nodeId || undefined,
          segment: req.segment,
          startMs: timeOf(req.startTime),
          endMs: timeOf(req.endTime),
          purposes: req.purposes.map((p, i) => known(purposeOf(p), `purposes[${i}]`, pb.SupplyPurpose)),
          actionId: req.actionId || undefined,
          includeSystem: req.includeSystem,
          includeIgnored: req.includeIgnored,
        },
        req.pageSize,
        req.pageToken,
      );
      return {
        records: result.items.map(toAuditRecord),
        nextPageToken: result.nextPageToken,
        consumedSequence: result.consumedSequence,
      };
    }),

    getAuditAction: unary('GetAuditAction', logger, async (req: pb.auditV1.GetAuditActionRequest) => {
      const view = await audit.action(req.actionId, req.requestId);
      return {
        action: actionOf(view.records),
        parent: view.parent.length > 0 ? actionOf(view.parent) : undefined,
        children: groupByAction(view.children),
        related: view.related.map(toAuditRecord),
        truncated: view.truncated,
        consumedSequence: view.consumedSequence,
      };
    }),

    getStockHistory: unary('GetStockHistory', logger, async (req: pb.auditV1.GetStockHistoryRequest) => {
      const result = await audit.stockHistory(
        {
          item: req.item && itemKey(req.item.itemId, req.item.unitOfMeasure, req.item.productClass),
          nodeId: req.nodeId,
          segment: req.segment,
          supplyType:
            req.supplyType === pb.SupplyType.SUPPLY_TYPE_UNSPECIFIED
              ? undefined
              : known(supplyTypeOf(req.supplyType), 'supply_type', pb.SupplyType),
          startMs: timeOf(req.startTime),
          endMs: timeOf(req.endTime),
        },
        req.pageSize,
        req.pageToken,
      );
      return {
        points: result.items.map(toPoint),
        nextPageToken: result.nextPageToken,
        consumedSequence: result.consumedSequence,
      };
    }),
  };
}

/** A timestamp in epoch ms; NaN for one that is not a time (the checks refuse it). */
function timeOf(time: Date | undefined): number | undefined {
  return time === undefined ? undefined : time.getTime();
}

function actionOf(records: SupplyAuditRecord[]): pb.auditV1.AuditAction {
  return { actionId: (records[0] as SupplyAuditRecord).actionId, records: records.map(toAuditRecord) };
}

/** Records in stream order, grouped by action in the order of each action's first record. */
function groupByAction(records: SupplyAuditRecord[]): pb.auditV1.AuditAction[] {
  const actions = new Map<string, SupplyAuditRecord[]>();
  for (const r of records) {
    const list = actions.get(r.actionId);
    if (list) list.push(r);
    else actions.set(r.actionId, [r]);
  }
  return [...actions.values()].map(actionOf);
}

/** A translated enum value; INVALID_ARGUMENT for UNSPECIFIED or a value this build does not know. */
function known<T>(value: T | undefined, field: string, enumObject: Record<string, string | number>): T {
  if (value !== undefined) return value;
  const names = Object.keys(enumObject).filter((k) => isNaN(Number(k)) && !/_UNSPECIFIED$|^UNRECOGNIZED$/.test(k));
  throw new InvalidArgumentError([{ field, description: `must be one of ${names.join(', ')}` }]);
}

function toPoint(p: StockHistoryPoint): pb.auditV1.StockHistoryPoint {
  return {
    occurTime: new Date(p.record.occurMs),
    sequence: p.record.sequence,
    quantityBefore: p.quantityBefore,
    quantityAfter: p.quantityAfter,
    actionId: p.record.actionId,
    purpose: toPurpose(p.record.purpose),
    auditType: toAuditType(p.record.auditType),
  };
}
