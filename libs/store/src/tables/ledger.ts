import type { AllocationRecord, SupplyOutcome, SupplyPurpose } from '@inventory/domain';
import { codeOf, integerOf, type IntegerColumn } from './columns';

const TRANSACTION_TYPES = ['SYNC', 'ADJUST'] as const;
const OUTCOMES: readonly SupplyOutcome[] = ['APPLIED', 'IGNORED_SUPERSEDED'];

/** One ledger row: what a sync or adjust line did to a quantity. */
export interface LedgerEntry {
  readonly actionId: string;
  readonly requestId: string;
  readonly rowId: number;
  readonly transactionType: (typeof TRANSACTION_TYPES)[number];
  readonly quantity: number;
  readonly sourceMs: number;
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
  readonly reason: string;
  /** Who changed the supply and why; the supply ledger records it, the demand ledger does not. */
  readonly audit?: LedgerAudit;
}

/**
 * Why a supply change was made and by whom (DESIGN §2 "Audit"). A line without one is a caller's sync or
 * adjust: purpose SUPPLY_SYNC or SUPPLY_ADJUSTMENT, audit type USER, no actor.
 */
export interface LedgerAudit {
  readonly purpose: SupplyPurpose;
  readonly auditType: 'USER' | 'SYSTEM';
  readonly actor: string;
  readonly parentActionId: string;
  readonly relatedActionId: string;
  readonly allocation: AllocationRecord | null;
}

/** The audit of a caller's plain sync or adjust line. */
export function plainAudit(transactionType: LedgerEntry['transactionType']): LedgerAudit {
  return {
    purpose: transactionType === 'SYNC' ? 'SUPPLY_SYNC' : 'SUPPLY_ADJUSTMENT',
    auditType: 'USER',
    actor: '',
    parentActionId: '',
    relatedActionId: '',
    allocation: null,
  };
}

/** The JSON of allocation records, written once per record: a rebalance shares one among its moves' lines. */
const allocationJsons = new WeakMap<AllocationRecord, string>();

function allocationJson(record: AllocationRecord): string {
  let json = allocationJsons.get(record);
  if (json === undefined) allocationJsons.set(record, (json = JSON.stringify(record)));
  return json;
}

/** A ledger row as stored. */
export interface LedgerRecord extends LedgerEntry {
  readonly ledgerId: number;
  readonly recordedMs: number;
}

/**
 * A row of `supply_ledger` or `demand_ledger`, as {@link ledgerColumns} selects it: the two differ only in
 * the name of the column that points at the quantity row (`supply_id`, `demand_id`), read as `row_id`.
 */
export interface LedgerRow {
  readonly ledger_id: IntegerColumn;
  readonly action_id: string;
  readonly request_id: string;
  readonly row_id: IntegerColumn;
  readonly transaction_type: string;
  /** The synced quantity, or the adjust's delta. */
  readonly quantity: IntegerColumn;
  readonly source_ms: IntegerColumn;
  readonly outcome: string;
  readonly quantity_before: IntegerColumn;
  readonly quantity_after: IntegerColumn;
  readonly reason: string;
  readonly recorded_ms: IntegerColumn;
}

/** The columns of {@link LedgerRow}, for a ledger whose quantity rows are named by `idColumn`. */
export function ledgerColumns(idColumn: string) {
  return [
    'ledger_id',
    'action_id',
    'request_id',
    { row_id: idColumn },
    'transaction_type',
    'quantity',
    'source_ms',
    'outcome',
    'quantity_before',
    'quantity_after',
    'reason',
    'recorded_ms',
  ] as const;
}

/**
 * The row that records `entry`, its quantity row named by `idColumn`; with its audit columns when the ledger
 * keeps them (`audited`).
 */
export function ledgerRow(
  idColumn: string,
  entry: LedgerEntry,
  nowMs: number,
  audited: boolean,
): Record<string, string | number | null> {
  // Built field by field into one shape: a spread or a computed key in the literal would make every row a
  // dictionary-mode object, which cost more than the rest of a rebalance's ledger work.
  const row: Record<string, string | number | null> = {
    action_id: entry.actionId,
    request_id: entry.requestId,
    transaction_type: entry.transactionType,
    quantity: entry.quantity,
    source_ms: entry.sourceMs,
    outcome: entry.outcome,
    quantity_before: entry.quantityBefore,
    quantity_after: entry.quantityAfter,
    reason: entry.reason,
    recorded_ms: nowMs,
  };
  row[idColumn] = entry.rowId;
  if (audited) {
    const audit = entry.audit ?? plainAudit(entry.transactionType);
    row['purpose'] = audit.purpose;
    row['audit_type'] = audit.auditType;
    row['actor'] = audit.actor;
    row['parent_action_id'] = audit.parentActionId;
    row['related_action_id'] = audit.relatedActionId;
    row['allocation'] = audit.allocation && allocationJson(audit.allocation);
  }
  return row;
}

export function ledgerRecordOf(table: string, row: LedgerRow): LedgerRecord {
  return {
    ledgerId: integerOf(row.ledger_id, `${table}.ledger_id`),
    actionId: row.action_id,
    requestId: row.request_id,
    rowId: integerOf(row.row_id, `${table}.row_id`),
    transactionType: codeOf(TRANSACTION_TYPES, row.transaction_type, `${table}.transaction_type`),
    quantity: integerOf(row.quantity, `${table}.quantity`),
    sourceMs: integerOf(row.source_ms, `${table}.source_ms`),
    outcome: codeOf(OUTCOMES, row.outcome, `${table}.outcome`),
    quantityBefore: integerOf(row.quantity_before, `${table}.quantity_before`),
    quantityAfter: integerOf(row.quantity_after, `${table}.quantity_after`),
    reason: row.reason,
    recordedMs: integerOf(row.recorded_ms, `${table}.recorded_ms`),
  };
}
