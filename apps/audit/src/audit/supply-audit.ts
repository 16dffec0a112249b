import {
  checkActionRef,
  checkStockHistoryQuery,
  checkSupplyAuditQuery,
  MAX_ACTION_RECORDS,
  stockHistoryPoints,
  type StockHistoryFilter,
  type StockHistoryPoint,
  type SupplyAuditFilter,
  type SupplyAuditRecord,
} from '@inventory/domain';
import {
  actionOfRequest,
  decodePageToken,
  listSupplyAudit,
  page,
  readConsumerPosition,
  recordsOfAction,
  stockHistoryRecords,
  stockQuantitiesBefore,
  type Database,
} from '@inventory/store';
import { AuditActionNotFoundError } from './errors';

/** A page of results and how far the stored records cover the change stream. */
export interface AuditPage<T> {
  readonly items: T[];
  readonly nextPageToken: string;
  readonly consumedSequence: number;
}

/** An action, what caused it, what it caused, and the actions committed with it. */
export interface AuditActionView {
  readonly records: SupplyAuditRecord[];
  readonly parent: SupplyAuditRecord[];
  /** Records of the actions it caused, in stream order. */
  readonly children: SupplyAuditRecord[];
  readonly related: SupplyAuditRecord[];
  readonly truncated: boolean;
  readonly consumedSequence: number;
}

/**
 * The supply audit queries. Each reads the consumer's position before the records, so the position a
 * response reports never claims more than the records it read hold.
 */
export class SupplyAudit {
  constructor(private readonly db: Database) {}

  async list(
    filter: SupplyAuditFilter,
    requestedPageSize: number,
    pageToken: string,
  ): Promise<AuditPage<SupplyAuditRecord>> {
    const pageSize = checkSupplyAuditQuery(filter, requestedPageSize);
    const filters = JSON.stringify(filter);
    const after = decodePageToken<number>(pageToken, filters, 0);
    const { consumedSequence } = await readConsumerPosition(this.db);
    const rows = await listSupplyAudit(this.db, filter, after, pageSize + 1);
    return { ...page(rows, pageSize, (r) => r.sequence, filters), consumedSequence };
  }

  /** The action, by its id or by the caller's request that made it. */
  async action(requestedActionId: string, requestId: string): Promise<AuditActionView> {
    const ref = checkActionRef(requestedActionId, requestId);
    const { consumedSequence } = await readConsumerPosition(this.db);
    const actionId = 'actionId' in ref ? ref.actionId : await actionOfRequest(this.db, ref.requestId);
    const records = actionId ? await recordsOfAction(this.db, 'action_id', actionId, MAX_ACTION_RECORDS) : [];
    if (!actionId || records.length === 0) throw new AuditActionNotFoundError(ref);
    const first = records[0] as SupplyAuditRecord;
    const parent = first.parentActionId
      ? await recordsOfAction(this.db, 'action_id', first.parentActionId, MAX_ACTION_RECORDS)
      : [];
    const children = await recordsOfAction(this.db, 'parent_action_id', actionId, MAX_ACTION_RECORDS + 1);
    const related = first.relatedActionId
      ? (await recordsOfAction(this.db, 'related_action_id', first.relatedActionId, 2 * MAX_ACTION_RECORDS + 1)).filter(
          (r) => r.actionId !== actionId,
        )
      : [];
    const truncated = children.length > MAX_ACTION_RECORDS || related.length > MAX_ACTION_RECORDS;
    return {
      records,
      parent,
      children: children.slice(0, MAX_ACTION_RECORDS),
      related: related.slice(0, MAX_ACTION_RECORDS),
      truncated,
      consumedSequence,
    };
  }

  async stockHistory(
    filter: Partial<StockHistoryFilter>,
    requestedPageSize: number,
    pageToken: string,
  ): Promise<AuditPage<StockHistoryPoint>> {
    const pageSize = checkStockHistoryQuery(filter, requestedPageSize);
    const checked = filter as StockHistoryFilter;
    const filters = JSON.stringify(checked);
    const after = decodePageToken<number>(pageToken, filters, 0);
    const { consumedSequence } = await readConsumerPosition(this.db);
    const points: StockHistoryPoint[] = [];
    let from = after;
    // Lines that left their position as it was make no point: read on until the page is full or the records end.
    for (;;) {
      const records = await stockHistoryRecords(this.db, checked, from, pageSize + 1);
      const known = await stockQuantitiesBefore(this.db, checked, from, from === 0 ? checked.startMs : undefined);
      points.push(...stockHistoryPoints(records, known));
      if (records.length <= pageSize || points.length > pageSize) break;
      from = (records[records.length - 1] as SupplyAuditRecord).sequence;
    }
    return { ...page(points, pageSize, (p) => p.record.sequence, filters), consumedSequence };
  }
}
