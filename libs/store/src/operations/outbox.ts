import type { Knex } from 'knex';
import { ChangeEvent } from '@inventory/contracts/events';
import { chunks } from './chunks';

/**
 * The change stream's outbox: one row per event, the event stored as its encoded `ChangeEvent` envelope
 * (binary protobuf). This module is the one place that writes and reads it.
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
 * The event a row holds, with its `sequence` set from the row id (until a sequencer stamps stream
 * positions). Throws when the row does not hold a `ChangeEvent`.
 */
function eventOf(row: OutboxRow): ChangeEvent {
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
  return chunks(events.map(rowOf)).map((chunk) => trx('outbox').insert(chunk));
}

/** Events after `afterSequence` in sequence order, at most `limit`. Reads without locking. */
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

/** A row of the outbox as {@link readOutboxOfTypes} returns it: its event only when of a type asked for. */
export interface OutboxEntry {
  readonly sequence: number;
  readonly event?: ChangeEvent;
}

/**
 * Like {@link readOutbox}, but decodes (and fetches the payload of) only events of `types`: the rows of other
 * types come back as their sequence alone, so that a reader that follows a few types still sees every
 * sequence (its holes) without decoding the rest.
 */
export async function readOutboxOfTypes({
  db,
  afterSequence,
  limit,
  types,
}: {
  db: Knex;
  afterSequence: number;
  limit: number;
  types: readonly string[];
}): Promise<OutboxEntry[]> {
  const rows: Array<Pick<OutboxRow, 'sequence'> & { payload: OutboxRow['payload'] | null }> = await db('outbox')
    .select(
      'sequence',
      db.raw(`CASE WHEN event_type IN (${types.map(() => '?').join(', ')}) THEN payload END AS payload`, [...types]),
    )
    .where('sequence', '>', afterSequence)
    .orderBy('sequence')
    .limit(limit);
  return rows.map((row) =>
    row.payload === null
      ? { sequence: Number(row.sequence) }
      : { sequence: Number(row.sequence), event: eventOf({ ...row, payload: row.payload } as OutboxRow) },
  );
}

/** Events of an action in sequence order. Reads without locking. */
export async function outboxOfAction({ db, actionId }: { db: Knex; actionId: string }): Promise<ChangeEvent[]> {
  const rows: OutboxRow[] = await db('outbox').where({ action_id: actionId }).orderBy('sequence');
  return rows.map(eventOf);
}

/** The highest sequence written so far; 0 for an empty outbox. Reads without locking. */
export async function lastOutboxSequence({ db }: { db: Knex }): Promise<number> {
  const row = (await db('outbox').max({ last: 'sequence' }).first()) as { last: number | string | null } | undefined;
  return Number(row?.last ?? 0);
}
