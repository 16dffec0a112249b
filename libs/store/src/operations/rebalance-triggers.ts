import type { Knex } from 'knex';
import type { RebalanceSchedule } from '@inventory/domain';
import { integerOf, type IntegerColumn } from '../tables/columns';

/** A row of `rebalance_schedules`: a segment type's next scheduled rebalance. */
interface RebalanceScheduleRow {
  readonly segment_type: string;
  readonly next_run_ms: IntegerColumn;
  readonly every_ms: IntegerColumn;
  readonly plan_version: IntegerColumn;
}

function scheduleOf(row: RebalanceScheduleRow): RebalanceSchedule {
  const n = (v: IntegerColumn, c: string) => integerOf(v, `rebalance_schedules.${c}`);
  return {
    segmentType: row.segment_type,
    nextRunMs: n(row.next_run_ms, 'next_run_ms'),
    everyMs: n(row.every_ms, 'every_ms'),
    planVersion: n(row.plan_version, 'plan_version'),
  };
}

/**
 * A segment type's schedule; with `lock`, its row is locked for the rest of the transaction, so that of two
 * schedulers deciding at once the second sees what the first wrote (a missing row is not locked: two first
 * inserts collide on the key and the loser's transaction is retried).
 */
export async function readRebalanceSchedule({
  db,
  segmentType,
  lock = false,
}: {
  db: Knex;
  segmentType: string;
  lock?: boolean;
}): Promise<RebalanceSchedule | undefined> {
  const query = db('rebalance_schedules').where({ segment_type: segmentType });
  const row: RebalanceScheduleRow | undefined = await (lock ? query.forUpdate() : query).first();
  return row && scheduleOf(row);
}

/** Inserts or replaces a segment type's schedule. */
export async function writeRebalanceSchedule({
  trx,
  schedule,
}: {
  trx: Knex.Transaction;
  schedule: RebalanceSchedule;
}): Promise<void> {
  const row: RebalanceScheduleRow = {
    segment_type: schedule.segmentType,
    next_run_ms: schedule.nextRunMs,
    every_ms: schedule.everyMs,
    plan_version: schedule.planVersion,
  };
  await trx('rebalance_schedules').insert(row).onConflict('segment_type').merge();
}

export async function deleteRebalanceSchedule({
  trx,
  segmentType,
}: {
  trx: Knex.Transaction;
  segmentType: string;
}): Promise<void> {
  await trx('rebalance_schedules').where({ segment_type: segmentType }).delete();
}

/** Whether a run of the segment type is RUNNING. Reads without locking. */
export async function hasRunningRebalanceRun({ db, segmentType }: { db: Knex; segmentType: string }): Promise<boolean> {
  const row = await db('rebalance_runs').where({ state: 'RUNNING', segment_type: segmentType }).first('run_id');
  return row !== undefined;
}

/**
 * A reader's cursor: the last stream position it read, locked for the rest of the transaction, so that one
 * reader moves it at a time; undefined before its first read.
 */
export async function lockStreamCursor({
  trx,
  consumer,
}: {
  trx: Knex.Transaction;
  consumer: string;
}): Promise<number | undefined> {
  const row: { after_sequence: IntegerColumn } | undefined = await trx('outbox_cursors')
    .where({ consumer })
    .forUpdate()
    .first('after_sequence');
  return row && integerOf(row.after_sequence, 'outbox_cursors.after_sequence');
}

/** Inserts or replaces a reader's cursor. */
export async function writeStreamCursor({
  trx,
  consumer,
  afterSequence,
}: {
  trx: Knex.Transaction;
  consumer: string;
  afterSequence: number;
}): Promise<void> {
  // `gaps` is left from cursors by outbox row id, which had to remember the holes below them.
  await trx('outbox_cursors')
    .insert({ consumer, after_sequence: afterSequence, gaps: '[]' })
    .onConflict('consumer')
    .merge();
}

/** Where a system-detected rebalance debounces: a segment type at an item id and node. */
export interface DetectionKey {
  readonly segmentType: string;
  readonly itemId: string;
  readonly nodeId: string;
}

const detectionWhere = (key: DetectionKey) => ({
  segment_type: key.segmentType,
  item_id: key.itemId,
  node_id: key.nodeId,
});

/** When the last system-detected rebalance of `key` started, if it is still kept. */
export async function lastDetectionMs({ db, key }: { db: Knex; key: DetectionKey }): Promise<number | undefined> {
  const row: { detect_ms: IntegerColumn } | undefined = await db('rebalance_detections')
    .where(detectionWhere(key))
    .first('detect_ms');
  return row && integerOf(row.detect_ms, 'rebalance_detections.detect_ms');
}

/** Records a system-detected rebalance of `key` (replacing the one before). */
export async function recordDetection({
  trx,
  key,
  detectMs,
  runId,
}: {
  trx: Knex.Transaction;
  key: DetectionKey;
  detectMs: number;
  runId: string;
}): Promise<void> {
  await trx('rebalance_detections')
    .insert({ ...detectionWhere(key), detect_ms: detectMs, run_id: runId })
    .onConflict(['segment_type', 'item_id', 'node_id'])
    .merge();
}

/** Forgets detections from before `beforeMs`: they debounce nothing any more. */
export async function pruneDetections({ trx, beforeMs }: { trx: Knex.Transaction; beforeMs: number }): Promise<void> {
  await trx('rebalance_detections').where('detect_ms', '<', beforeMs).delete();
}

/** Every segment type's schedule (one row per segment type with a scheduled plan). Reads without locking. */
export async function listRebalanceSchedules({ db }: { db: Knex }): Promise<RebalanceSchedule[]> {
  const rows: RebalanceScheduleRow[] = await db('rebalance_schedules').orderBy('segment_type');
  return rows.map(scheduleOf);
}
