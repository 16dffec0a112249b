import type { Knex } from 'knex';
import { ChangeEvent } from '@inventory/contracts/events';
import { integerOf, type IntegerColumn } from '../tables/columns';
import { markEventsWritten } from '../commits';
import { chunks } from './chunks';

/**
 * The change stream's outbox: one row per event, the event stored as its encoded `ChangeEvent` envelope
 * (binary protobuf). This module is the one place that writes and reads it. A row gets its stream position
 * (`stream_sequence`, gap-free, in the order the sequencer saw commits) and `commit_ms` after it commits,
 * from {@link stampStreamPositions}.
 */

/** An outbox row as the database returns it. */
interface OutboxRow {
  /** The row id: unique and growing with each insert, but not in commit order. */
  readonly sequence: number;
  /** The envelope's `type`, so that rows can be filtered without decoding them. */
  readonly event_type: string;
  readonly action_id: string;
  /**
   * The encoded envelope, without `sequence` and `commit_time` (known only after the commit). Rows of the
   * earlier JSON format come back from SQLite as text.
   */
  readonly payload: Uint8Array | string;
  /** The envelope's `occur_time`, in milliseconds. */
  readonly created_ms: number;
}

type OutboxInsert = Omit<OutboxRow, 'sequence'>;

function rowOf(event: ChangeEvent): OutboxInsert {
  const bytes = ChangeEvent.encode({ ...event, sequence: 0, commitTime: undefined }).finish();
  return {
    event_type: event.type,
    action_id: event.actionId,
    payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    created_ms: event.occurTime?.getTime() ?? 0,
  };
}

/**
 * The event a row holds, with its `sequence` set from the row id (readers of the stream set it from the
 * stream position instead). Throws when the row does not hold a `ChangeEvent`.
 */
function eventOf(row: Pick<OutboxRow, 'sequence' | 'payload'>): ChangeEvent {
  const undecodable = (cause?: unknown) =>
    new Error(`outbox row ${row.sequence} does not hold a ChangeEvent`, { cause });
  if (typeof row.payload === 'string') throw undecodable();
  try {
    return { ...ChangeEvent.decode(row.payload), sequence: Number(row.sequence) };
  } catch (cause) {
    throw undecodable(cause);
  }
}

/**
 * Appends events to the change stream inside the caller's transaction: they commit with the change they
 * announce, or not at all. Takes no locks beyond the inserted rows'.
 */
export async function appendOutbox({
  trx,
  events,
}: {
  trx: Knex.Transaction;
  events: readonly ChangeEvent[];
}): Promise<void> {
  for (const insert of outboxInserts(trx, events)) await insert;
}

/** The INSERTs of {@link appendOutbox}, for a pipeline: one per chunk of events, none for no events. */
export function outboxInserts(trx: Knex, events: readonly ChangeEvent[]): Knex.QueryBuilder[] {
  if (events.length > 0) markEventsWritten(trx);
  return chunks(events.map(rowOf)).map((chunk) => trx('outbox').insert(chunk));
}

/** Events after row id `afterSequence` in row id order, at most `limit`, their `sequence` the row id. Reads without locking. */
export async function readOutbox({
  db,
  afterSequence,
  limit,
}: {
  db: Knex;
  afterSequence: number;
  limit: number;
}): Promise<ChangeEvent[]> {
  const rows: OutboxRow[] = await db('outbox').where('sequence', '>', afterSequence).orderBy('sequence').limit(limit);
  return rows.map(eventOf);
}

/** Events of an action in sequence order. Reads without locking. */
export async function outboxOfAction({ db, actionId }: { db: Knex; actionId: string }): Promise<ChangeEvent[]> {
  const rows: OutboxRow[] = await db('outbox').where({ action_id: actionId }).orderBy('sequence');
  return rows.map(eventOf);
}

/** The row of `change_stream_state` that keeps the last stream position given. */
const SEQUENCER = 'sequencer';

/**
 * Gives the committed outbox rows that have no stream position yet (at most `limit`, in row id order) the
 * next positions and `nowMs` as their commit time; returns how many it stamped. Call it in a transaction of
 * its own. It locks the sequencer row, so that two stampers (a lease that moved while a round ran) take
 * turns; and the unique index on `stream_sequence` refuses a position given twice. The search for unstamped
 * rows is a plain (non-locking) read: on MySQL it reads a snapshot of committed rows and neither sees nor
 * waits for a transaction still open, whose rows are stamped by a later call after it commits.
 */
export async function stampStreamPositions({
  trx,
  limit,
  nowMs,
}: {
  trx: Knex.Transaction;
  limit: number;
  nowMs: number;
}): Promise<number> {
  const state: { last_sequence: IntegerColumn } | undefined = await trx('change_stream_state')
    .where({ name: SEQUENCER })
    .forUpdate()
    .first('last_sequence');
  if (!state) throw new Error('change_stream_state has no sequencer row: the database is not migrated');
  const last = integerOf(state.last_sequence, 'change_stream_state.last_sequence');
  const rows: Array<{ sequence: IntegerColumn }> = await trx('outbox')
    .whereNull('stream_sequence')
    .orderBy('sequence')
    .limit(limit)
    .select('sequence');
  const ids = rows.map((row) => integerOf(row.sequence, 'outbox.sequence'));
  let next = last;
  for (const chunk of chunks(ids)) {
    const first = next + 1;
    await trx('outbox')
      .whereIn('sequence', chunk)
      .update({
        stream_sequence: trx.raw(`CASE sequence ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`, [
          ...chunk.flatMap((id, i) => [id, first + i]),
        ]),
        commit_ms: nowMs,
      });
    next += chunk.length;
  }
  if (next > last) await trx('change_stream_state').where({ name: SEQUENCER }).update({ last_sequence: next });
  return ids.length;
}

/** A stamped outbox row as {@link readStream} returns it: its event only when of a type asked for. */
export interface StreamEntry {
  /** The row's stream position. */
  readonly sequence: number;
  /** The row's id (its order of insertion, not of commit). */
  readonly rowId: number;
  /** The event, its `sequence` and `commit_time` set from the stamp. */
  readonly event?: ChangeEvent;
}

/**
 * The stamped rows after stream position `afterSequence`, in stream order, at most `limit`. Decodes (and
 * fetches the payload of) only events of `types` (every type when empty): the rest come back as their
 * position alone, so that a reader sees every position and can tell a trimmed range from a filtered one.
 * Reads without locking.
 */
export async function readStream({
  db,
  afterSequence,
  limit,
  types,
}: {
  db: Knex;
  afterSequence: number;
  limit: number;
  types: readonly string[];
}): Promise<StreamEntry[]> {
  const payload =
    types.length === 0
      ? 'payload'
      : db.raw(`CASE WHEN event_type IN (${types.map(() => '?').join(', ')}) THEN payload END AS payload`, [...types]);
  const rows: Array<{
    sequence: IntegerColumn;
    stream_sequence: IntegerColumn;
    commit_ms: IntegerColumn;
    payload: OutboxRow['payload'] | null;
  }> = await db('outbox')
    .select('sequence', 'stream_sequence', 'commit_ms', payload)
    .where('stream_sequence', '>', afterSequence)
    .orderBy('stream_sequence')
    .limit(limit);
  return rows.map((row) => {
    const sequence = integerOf(row.stream_sequence, 'outbox.stream_sequence');
    const rowId = integerOf(row.sequence, 'outbox.sequence');
    if (row.payload === null) return { sequence, rowId };
    const event = eventOf({ sequence: rowId, payload: row.payload });
    return {
      sequence,
      rowId,
      event: { ...event, sequence, commitTime: new Date(integerOf(row.commit_ms, 'outbox.commit_ms')) },
    };
  });
}

/**
 * The stream positions of the outbox rows `rowIds`, by row id; a row not stamped yet (or trimmed) is
 * absent. Reads without locking.
 */
export async function streamSequencesOf({
  db,
  rowIds,
}: {
  db: Knex;
  rowIds: readonly number[];
}): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  for (const chunk of chunks(rowIds)) {
    const rows: Array<{ sequence: IntegerColumn; stream_sequence: IntegerColumn }> = await db('outbox')
      .select('sequence', 'stream_sequence')
      .whereIn('sequence', chunk)
      .whereNotNull('stream_sequence');
    for (const row of rows)
      found.set(integerOf(row.sequence, 'outbox.sequence'), integerOf(row.stream_sequence, 'outbox.stream_sequence'));
  }
  return found;
}

/** The last stream position given (0 before the first). Reads without locking. */
export async function lastStreamSequence({ db }: { db: Knex }): Promise<number> {
  const row = (await db('change_stream_state').where({ name: SEQUENCER }).first('last_sequence')) as
    { last_sequence: IntegerColumn } | undefined;
  return row ? integerOf(row.last_sequence, 'change_stream_state.last_sequence') : 0;
}

/** The ids of the committed outbox rows that have no stream position yet. Reads without locking. */
export async function unstampedRowIds({ db }: { db: Knex }): Promise<number[]> {
  const rows: Array<{ sequence: IntegerColumn }> = await db('outbox').select('sequence').whereNull('stream_sequence');
  return rows.map((row) => integerOf(row.sequence, 'outbox.sequence'));
}

/**
 * The oldest stream position still held: the lowest stamped row's, or, when no row is stamped (or retention
 * trimmed every row), the position the next stamp will get. One statement, so that a stamp committing
 * meanwhile cannot make it skip the rows just stamped. Reads without locking.
 */
export async function oldestStreamSequence({ db }: { db: Knex }): Promise<number> {
  const row = (await db
    .select({
      first: db('outbox').min('stream_sequence'),
      last: db('change_stream_state').where({ name: SEQUENCER }).select('last_sequence'),
    })
    .first()) as { first: IntegerColumn | null; last: IntegerColumn | null } | undefined;
  if (row?.first != null) return integerOf(row.first, 'outbox.stream_sequence');
  return integerOf(row?.last ?? 0, 'change_stream_state.last_sequence') + 1;
}

/**
 * Deletes the oldest stamped rows whose commit time is before `beforeMs`, at most `limit`, always a prefix of
 * the stream (so what is held stays gap-free); returns how many. Reads the candidates without locking, then
 * deletes them by position: only stamped rows, which no transaction writes any more.
 */
export async function trimStream({
  trx,
  beforeMs,
  limit,
}: {
  trx: Knex.Transaction;
  beforeMs: number;
  limit: number;
}): Promise<number> {
  const rows: Array<{ stream_sequence: IntegerColumn; commit_ms: IntegerColumn }> = await trx('outbox')
    .whereNotNull('stream_sequence')
    .orderBy('stream_sequence')
    .limit(limit)
    .select('stream_sequence', 'commit_ms');
  const expired = rows.findIndex((row) => integerOf(row.commit_ms, 'outbox.commit_ms') >= beforeMs);
  const prefix = expired === -1 ? rows : rows.slice(0, expired);
  const last = prefix.at(-1);
  if (!last) return 0;
  return trx('outbox')
    .where('stream_sequence', '<=', integerOf(last.stream_sequence, 'outbox.stream_sequence'))
    .delete();
}
