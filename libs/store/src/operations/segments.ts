import type { Knex } from 'knex';
import type { Segment, SegmentKey, SegmentStock, SegmentType } from '@inventory/domain';
import { integerOf, type IntegerColumn } from '../tables/columns';
import {
  segmentOf,
  segmentRow,
  segmentTypeOf,
  segmentTypeRow,
  type SegmentRow,
  type SegmentTypeRow,
} from '../tables/segments';
import { chunks } from './chunks';
import { whereHoldTakes } from './counting-sql';

export async function insertSegmentType({ trx, type }: { trx: Knex.Transaction; type: SegmentType }): Promise<void> {
  await trx('segment_types').insert(segmentTypeRow(type));
}

export async function getSegmentType({
  db,
  segmentType,
}: {
  db: Knex;
  segmentType: string;
}): Promise<SegmentType | undefined> {
  const row: SegmentTypeRow | undefined = await db('segment_types').where({ segment_type: segmentType }).first();
  return row && segmentTypeOf(row);
}

/** Segment types after `afterSegmentType` in id order (keyset pagination). */
export async function listSegmentTypes({
  db,
  afterSegmentType,
  limit,
}: {
  db: Knex;
  afterSegmentType: string;
  limit: number;
}): Promise<SegmentType[]> {
  const rows: SegmentTypeRow[] = await db('segment_types')
    .where('segment_type', '>', afterSegmentType)
    .orderBy('segment_type')
    .limit(limit);
  return rows.map(segmentTypeOf);
}

export async function insertSegment({ trx, segment }: { trx: Knex.Transaction; segment: Segment }): Promise<void> {
  await trx('segments').insert(segmentRow(segment));
}

export async function getSegment({ db, key }: { db: Knex; key: SegmentKey }): Promise<Segment | undefined> {
  const row: SegmentRow | undefined = await db('segments')
    .where({ segment_type: key.segmentType, segment: key.segment })
    .first();
  return row && segmentOf(row);
}

/**
 * Reads a segment and locks its row for the rest of the transaction (SELECT ... FOR UPDATE), so that two
 * changes of one segment (an update and a retirement) run one after the other and each sees the other's
 * result. (SQLite ignores FOR UPDATE: it runs one writer at a time.)
 */
export async function lockSegment({
  trx,
  key,
}: {
  trx: Knex.Transaction;
  key: SegmentKey;
}): Promise<Segment | undefined> {
  const row: SegmentRow | undefined = await trx('segments')
    .where({ segment_type: key.segmentType, segment: key.segment })
    .forUpdate()
    .first();
  return row && segmentOf(row);
}

/** Writes what can change of a segment: its description, state and times. */
export async function updateSegment({ trx, segment }: { trx: Knex.Transaction; segment: Segment }): Promise<void> {
  const row = segmentRow(segment);
  await trx('segments').where({ segment_type: row.segment_type, segment: row.segment }).update({
    description: row.description,
    state: row.state,
    updated_ms: row.updated_ms,
    retired_ms: row.retired_ms,
  });
}

/**
 * Segments in (segment type, segment) order after `after` (keyset pagination over the primary key),
 * optionally of one type only, and without the retired ones unless asked.
 */
export async function listSegments({
  db,
  segmentType,
  includeRetired,
  after,
  limit,
}: {
  db: Knex;
  /** Empty for every type. */
  segmentType: string;
  includeRetired: boolean;
  /** The last segment of the previous page; `undefined` for the first page. */
  after: SegmentKey | undefined;
  limit: number;
}): Promise<Segment[]> {
  const query = db('segments').orderBy(['segment_type', 'segment']).limit(limit);
  if (segmentType !== '') query.where({ segment_type: segmentType });
  if (!includeRetired) query.andWhere({ state: 'ACTIVE' });
  if (after) {
    query.andWhere((q) =>
      q
        .where('segment_type', '>', after.segmentType)
        .orWhere((same) => same.where('segment_type', after.segmentType).andWhere('segment', '>', after.segment)),
    );
  }
  const rows: SegmentRow[] = await query;
  return rows.map(segmentOf);
}

/**
 * The stored segments of `keys` (the unsegmented pool has none), by `segmentType/segment`, in one query per
 * 500 keys over the primary key. Takes no lock: segments are never deleted.
 */
export async function findSegments({
  db,
  keys,
  lock = false,
}: {
  db: Knex;
  keys: readonly SegmentKey[];
  /**
   * Inside a transaction that writes stock in these segments: share-lock their rows, so that a
   * RetireSegment (which locks the row for update, then counts the stock) waits for the commit and sees it.
   */
  lock?: boolean;
}): Promise<Map<string, Segment>> {
  const unique = new Map(keys.map((k) => [segmentKeyId(k), k]));
  const found = new Map<string, Segment>();
  for (const chunk of chunks([...unique.values()], 500))
    for (const [id, segment] of segmentsByKey(await segmentsQuery(db, chunk, lock))) found.set(id, segment);
  return found;
}

/** The query that reads segments (see {@link findSegments}), to run with others; read its rows with {@link segmentsByKey}. */
export function segmentsQuery(db: Knex, keys: readonly SegmentKey[], lock: boolean): Knex.QueryBuilder {
  const query = db('segments').whereIn(
    ['segment_type', 'segment'],
    keys.length > 0 ? keys.map((k) => [k.segmentType, k.segment]) : [[null, null]],
  );
  return lock ? query.forShare() : query;
}

export function segmentsByKey(rows: readonly unknown[]): Map<string, Segment> {
  return new Map(
    (rows as readonly SegmentRow[]).map((row) => [
      segmentKeyId({ segmentType: row.segment_type, segment: row.segment }),
      segmentOf(row),
    ]),
  );
}

export function segmentKeyId(key: SegmentKey): string {
  return `${key.segmentType}/${key.segment}`;
}

interface Remains {
  readonly n: IntegerColumn;
  readonly units: IntegerColumn | null;
}

/**
 * What a segment still holds at `nowMs`: supply and demand rows whose quantity is not zero, and reservation
 * holds that are held and not past expiry (the counting rule's `holdTakes`). Three reads over the segment
 * indexes of supply, demand and stock positions, and the holds' position index. Takes no lock: the caller
 * holds the segment's row lock, and requests check a segment before they record stock in it.
 */
export async function segmentStock({
  db,
  key,
  nowMs,
}: {
  db: Knex;
  key: SegmentKey;
  nowMs: number;
}): Promise<SegmentStock> {
  const inSegment = { segment_type: key.segmentType, segment: key.segment };
  const quantities = async (table: 'supply' | 'demand'): Promise<Remains | undefined> =>
    db(table)
      .where(inSegment)
      .andWhere('quantity', '<>', 0)
      .first(db.raw('COUNT(*) AS n'), db.raw('SUM(quantity) AS units'));
  const supply = await quantities('supply');
  const demand = await quantities('demand');
  const holds: Remains | undefined = await whereHoldTakes(
    db('stock_positions as p')
      .join('reservation_holds as h', 'h.position_id', 'p.position_id')
      .where({ 'p.segment_type': key.segmentType, 'p.segment': key.segment }),
    nowMs,
    'h.',
  ).first(db.raw('COUNT(*) AS n'), db.raw('SUM(h.quantity) AS units'));
  const count = (r: Remains | undefined, what: string) => integerOf(r?.n ?? 0, `${what} count`);
  const units = (r: Remains | undefined, what: string) => integerOf(r?.units ?? 0, `${what} units`);
  return {
    supplyRows: count(supply, 'supply'),
    supplyUnits: units(supply, 'supply'),
    demandRows: count(demand, 'demand'),
    demandUnits: units(demand, 'demand'),
    activeHolds: count(holds, 'reservation_holds'),
    heldUnits: units(holds, 'reservation_holds'),
  };
}
