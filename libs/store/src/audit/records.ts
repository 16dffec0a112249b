import type { Knex } from 'knex';
import {
  SUPPLY_TYPES,
  supplyKeyId,
  type AuditType,
  type StockHistoryFilter,
  type SupplyAuditFilter,
  type SupplyAuditRecord,
  type SupplyKey,
  type SupplyOutcome,
  loanKeyId,
  loanRecords,
  type AuditPurpose,
  type LoanObservation,
} from '@inventory/domain';
import type { Database } from '../database';
import { codeOf, integerOf, integerOrNullOf, type IntegerColumn } from '../tables/columns';
import { chunks } from '../operations/chunks';
import { keyHash } from './key-hash';
import { auditMigrations } from './migrations';

/**
 * The audit app's store: supply audit records and the consumer's position, which every batch of records
 * moves in the same transaction. This module is the one place that reads and writes those tables.
 */

const CONSUMER = 'change-stream';

/** Applies every pending migration of the audit tables. */
export async function migrateAuditToLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest(auditMigrations);
}

/** Rolls back every audit migration (tests prove each `down` undoes its `up`). */
export async function migrateAuditAllDown(db: Database): Promise<void> {
  await db.knex.migrate.rollback(auditMigrations, true);
}

/** Checks that the database answers and has the audit tables. */
export async function checkAuditDatabase(db: Database): Promise<void> {
  await db.knex.raw(
    'SELECT 1 FROM audit_consumer WHERE 1 = 0 UNION ALL SELECT 1 FROM audit_supply_records WHERE 1 = 0',
  );
}

/** How far the stored records cover the change stream, and when the last batch was stored. */
export interface ConsumerPosition {
  readonly consumedSequence: number;
  readonly storedMs: number | null;
}

export async function readConsumerPosition(db: Database): Promise<ConsumerPosition> {
  const row = (await db.knex('audit_consumer').where({ name: CONSUMER }).first()) as ConsumerRow;
  return { consumedSequence: integerOf(row.consumed_sequence, 'consumed_sequence'), storedMs: storedMsOf(row) };
}

/**
 * Stores a batch, in stream order, and moves the position to `consumedSequence`, in one transaction: its
 * supply records, and the SEGMENT_CONSUMPTION records of the loans it observed (against each loan's last
 * known amount, which moves with them). The position only moves forward from `expectedSequence`: a batch
 * stored concurrently (a second consumer on the same tables) makes this one fail rather than store a record
 * twice.
 */
export async function storeAuditBatch(
  db: Database,
  batch: { records: readonly SupplyAuditRecord[]; loans: readonly LoanObservation[] },
  expectedSequence: number,
  consumedSequence: number,
  storedMs: number,
): Promise<number> {
  return db.knex.transaction(async (trx) => {
    const moved = await trx('audit_consumer')
      .where({ name: CONSUMER, consumed_sequence: expectedSequence })
      .update({ consumed_sequence: consumedSequence, stored_ms: storedMs });
    if (moved !== 1) throw new Error(`the audit position moved from ${expectedSequence} while this batch was consumed`);
    const loans = batch.loans.length > 0 ? await loanRecordsOf(trx, batch.loans) : [];
    const rows = [...batch.records, ...loans].map(rowOf);
    for (const chunk of chunks(rows)) await trx('audit_supply_records').insert(chunk);
    return rows.length;
  });
}

/** The records of observed loans, with the last known loans read and written in the transaction. */
async function loanRecordsOf(trx: Knex.Transaction, observations: readonly LoanObservation[]) {
  const hashes = new Map(observations.map((o) => [keyHash(loanKeyId(o)), loanKeyId(o)]));
  const known = new Map<string, number>();
  for (const chunk of chunks([...hashes.keys()])) {
    const rows = (await trx('audit_loans').whereIn('loan_key', chunk)) as Array<{
      loan_key: string;
      borrowed: IntegerColumn;
    }>;
    for (const row of rows) known.set(hashes.get(row.loan_key) as string, integerOf(row.borrowed, 'borrowed'));
  }
  const before = new Map(known);
  const records = loanRecords(observations, known);
  const changed = [...hashes].filter(([, id]) => known.get(id) !== before.get(id));
  for (const [loanKey, id] of changed) {
    const borrowed = known.get(id) as number;
    const updated = await trx('audit_loans').where({ loan_key: loanKey }).update({ borrowed });
    if (updated === 0) await trx('audit_loans').insert({ loan_key: loanKey, borrowed });
  }
  return records;
}

/** What a rebuild did: how many records it deleted and the position they covered. */
export interface RebuildResult {
  readonly recordsDeleted: number;
  readonly previousSequence: number;
}

/**
 * Deletes every record and sets the position back to 0, in one transaction, unless `requestId` is the last
 * rebuild's: then returns that rebuild's result and changes nothing.
 */
export async function rebuildAudit(db: Database, requestId: string): Promise<RebuildResult> {
  return db.knex.transaction(async (trx) => {
    const row = (await trx('audit_consumer').where({ name: CONSUMER }).forUpdate().first()) as ConsumerRow;
    if (row.rebuild_request_id === requestId)
      return {
        recordsDeleted: integerOf(row.rebuild_records_deleted ?? 0, 'rebuild_records_deleted'),
        previousSequence: integerOf(row.rebuild_previous_sequence ?? 0, 'rebuild_previous_sequence'),
      };
    const recordsDeleted = await trx('audit_supply_records').delete();
    await trx('audit_loans').delete();
    const previousSequence = integerOf(row.consumed_sequence, 'consumed_sequence');
    await trx('audit_consumer').where({ name: CONSUMER }).update({
      consumed_sequence: 0,
      stored_ms: null,
      rebuild_request_id: requestId,
      rebuild_records_deleted: recordsDeleted,
      rebuild_previous_sequence: previousSequence,
    });
    return { recordsDeleted, previousSequence };
  });
}

/** Records matching `filter` after `afterSequence`, in stream order, at most `limit`. */
export async function listSupplyAudit(
  db: Database,
  filter: SupplyAuditFilter,
  afterSequence: number,
  limit: number,
): Promise<SupplyAuditRecord[]> {
  const q = db.knex('audit_supply_records').where('sequence', '>', afterSequence);
  if (filter.itemId !== undefined) q.where('item_id', filter.itemId);
  if (filter.nodeId !== undefined) q.where('node_id', filter.nodeId);
  if (filter.segment) q.where({ segment_type: filter.segment.segmentType, segment: filter.segment.segment });
  if (filter.startMs !== undefined) q.where('occur_ms', '>=', filter.startMs);
  if (filter.endMs !== undefined) q.where('occur_ms', '<', filter.endMs);
  if (filter.purposes.length > 0) q.whereIn('purpose', filter.purposes);
  if (filter.actionId !== undefined) q.where('action_id', filter.actionId);
  // The action asked for is listed whatever its type.
  else if (!filter.includeSystem) q.where('audit_type', 'USER');
  if (!filter.includeIgnored) q.where('outcome', 'APPLIED');
  const rows = (await q.orderBy('sequence').limit(limit)) as RecordRow[];
  return rows.map(recordOf);
}

/** Records whose `column` is `actionId`, in stream order, at most `limit`. */
export async function recordsOfAction(
  db: Database,
  column: 'action_id' | 'parent_action_id' | 'related_action_id',
  actionId: string,
  limit: number,
): Promise<SupplyAuditRecord[]> {
  const rows = (await db
    .knex('audit_supply_records')
    .where(column, actionId)
    .orderBy('sequence')
    .limit(limit)) as RecordRow[];
  return rows.map(recordOf);
}

/** The action of the first USER record with `requestId`, if any. */
export async function actionOfRequest(db: Database, requestId: string): Promise<string | undefined> {
  const row = (await db
    .knex('audit_supply_records')
    .where({ request_id: requestId, audit_type: 'USER' })
    .orderBy('sequence')
    .first('action_id')) as { action_id: string } | undefined;
  return row?.action_id;
}

/** The records of the positions a stock history follows, after `afterSequence`, in stream order. */
export async function stockHistoryRecords(
  db: Database,
  filter: StockHistoryFilter,
  afterSequence: number,
  limit: number,
): Promise<SupplyAuditRecord[]> {
  const q = positionsOf(db.knex('audit_supply_records'), filter)
    .where('sequence', '>', afterSequence)
    .where('outcome', 'APPLIED');
  if (filter.startMs !== undefined) q.where('occur_ms', '>=', filter.startMs);
  if (filter.endMs !== undefined) q.where('occur_ms', '<', filter.endMs);
  const rows = (await q.orderBy('sequence').limit(limit)) as RecordRow[];
  return rows.map(recordOf);
}

/**
 * Each followed position's quantity after its last applied record up to `throughSequence` or, when given,
 * before `beforeMs` (a history's start time): where a page of its history starts. Keyed by supplyKeyId.
 */
export async function stockQuantitiesBefore(
  db: Database,
  filter: StockHistoryFilter,
  throughSequence: number,
  beforeMs: number | undefined,
): Promise<Map<string, number>> {
  const last = positionsOf(db.knex('audit_supply_records'), filter)
    .where('outcome', 'APPLIED')
    .where((q) => {
      q.where('sequence', '<=', throughSequence);
      if (beforeMs !== undefined) q.orWhere('occur_ms', '<', beforeMs);
    })
    .groupBy('position_key')
    .select('position_key')
    .max({ sequence: 'sequence' });
  const rows = (await db
    .knex('audit_supply_records as r')
    .join(last.as('last'), 'r.sequence', 'last.sequence')
    .select('r.*')) as RecordRow[];
  return new Map(rows.map((row) => [supplyKeyId(keyOf(row)), integerOf(row.quantity_after, 'quantity_after')]));
}

function positionsOf(q: Knex.QueryBuilder, filter: StockHistoryFilter): Knex.QueryBuilder {
  q.where({
    item_id: filter.item.itemId,
    unit_of_measure: filter.item.unitOfMeasure,
    product_class: filter.item.productClass,
    node_id: filter.nodeId,
  });
  if (filter.segment) q.where({ segment_type: filter.segment.segmentType, segment: filter.segment.segment });
  if (filter.supplyType) q.where('supply_type', filter.supplyType);
  else q.whereNot('supply_type', 'PLAN');
  // A loan moves no stock.
  return q.whereNot('purpose', 'SEGMENT_CONSUMPTION');
}

interface ConsumerRow {
  readonly consumed_sequence: IntegerColumn;
  readonly stored_ms: IntegerColumn | null;
  readonly rebuild_request_id: string | null;
  readonly rebuild_records_deleted: IntegerColumn | null;
  readonly rebuild_previous_sequence: IntegerColumn | null;
}

function storedMsOf(row: ConsumerRow): number | null {
  return integerOrNullOf(row.stored_ms, 'stored_ms');
}

interface RecordRow {
  readonly sequence: IntegerColumn;
  readonly event_id: string;
  readonly action_id: string;
  readonly parent_action_id: string;
  readonly related_action_id: string;
  readonly request_id: string;
  readonly purpose: string;
  readonly audit_type: string;
  readonly actor: string;
  readonly item_id: string;
  readonly unit_of_measure: string;
  readonly product_class: string;
  readonly node_id: string;
  readonly segment_type: string;
  readonly segment: string;
  readonly supply_type: string;
  readonly eta_ms: IntegerColumn | null;
  readonly position_key: string;
  readonly transaction_type: string;
  readonly quantity: IntegerColumn;
  readonly quantity_before: IntegerColumn;
  readonly quantity_after: IntegerColumn;
  readonly outcome: string;
  readonly source_ms: IntegerColumn;
  readonly occur_ms: IntegerColumn;
  readonly commit_ms: IntegerColumn;
  readonly receive_ms: IntegerColumn;
  readonly reason: string;
  readonly allocation: Uint8Array | null;
}

const PURPOSES: readonly AuditPurpose[] = [
  'SUPPLY_SYNC',
  'SUPPLY_ADJUSTMENT',
  'SEGMENT_ALLOCATION',
  'SEGMENT_REALLOCATION',
  'CYCLE_COUNT',
  'SEGMENT_CONSUMPTION',
];
const AUDIT_TYPES: readonly AuditType[] = ['USER', 'SYSTEM'];
const OUTCOMES: readonly SupplyOutcome[] = ['APPLIED', 'IGNORED_SUPERSEDED'];
const TRANSACTION_TYPES = ['SYNC', 'ADJUST'] as const;

function rowOf(r: SupplyAuditRecord): RecordRow {
  return {
    sequence: r.sequence,
    event_id: r.eventId,
    action_id: r.actionId,
    parent_action_id: r.parentActionId,
    related_action_id: r.relatedActionId,
    request_id: r.requestId,
    purpose: r.purpose,
    audit_type: r.auditType,
    actor: r.actor,
    item_id: r.key.item.itemId,
    unit_of_measure: r.key.item.unitOfMeasure,
    product_class: r.key.item.productClass,
    node_id: r.key.nodeId,
    segment_type: r.key.segment.segmentType,
    segment: r.key.segment.segment,
    supply_type: r.key.supplyType,
    eta_ms: r.key.etaMs,
    position_key: keyHash(r.purpose === 'SEGMENT_CONSUMPTION' ? loanKeyId({ ...r.key }) : supplyKeyId(r.key)),
    transaction_type: r.transactionType,
    quantity: r.quantity,
    quantity_before: r.quantityBefore,
    quantity_after: r.quantityAfter,
    outcome: r.outcome,
    source_ms: r.sourceMs,
    occur_ms: r.occurMs,
    commit_ms: r.commitMs,
    receive_ms: r.receiveMs,
    reason: r.reason,
    allocation: r.allocation ? Buffer.from(r.allocation) : null,
  };
}

function keyOf(row: RecordRow): SupplyKey {
  return {
    item: { itemId: row.item_id, unitOfMeasure: row.unit_of_measure, productClass: row.product_class },
    nodeId: row.node_id,
    segment: { segmentType: row.segment_type, segment: row.segment },
    supplyType: codeOf(SUPPLY_TYPES, row.supply_type, 'supply_type'),
    etaMs: integerOrNullOf(row.eta_ms, 'eta_ms'),
  };
}

function recordOf(row: RecordRow): SupplyAuditRecord {
  return {
    sequence: integerOf(row.sequence, 'sequence'),
    eventId: row.event_id,
    actionId: row.action_id,
    parentActionId: row.parent_action_id,
    relatedActionId: row.related_action_id,
    requestId: row.request_id,
    purpose: codeOf(PURPOSES, row.purpose, 'purpose'),
    auditType: codeOf(AUDIT_TYPES, row.audit_type, 'audit_type'),
    actor: row.actor,
    key: keyOf(row),
    transactionType: codeOf(TRANSACTION_TYPES, row.transaction_type, 'transaction_type'),
    quantity: integerOf(row.quantity, 'quantity'),
    quantityBefore: integerOf(row.quantity_before, 'quantity_before'),
    quantityAfter: integerOf(row.quantity_after, 'quantity_after'),
    outcome: codeOf(OUTCOMES, row.outcome, 'outcome'),
    sourceMs: integerOf(row.source_ms, 'source_ms'),
    occurMs: integerOf(row.occur_ms, 'occur_ms'),
    commitMs: integerOf(row.commit_ms, 'commit_ms'),
    receiveMs: integerOf(row.receive_ms, 'receive_ms'),
    reason: row.reason,
    allocation: row.allocation,
  };
}
