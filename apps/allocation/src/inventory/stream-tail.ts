import type { ChangeEvent } from '@inventory/contracts/events';
import { lastStreamSequence, lockStreamCursor, readStream, writeStreamCursor } from '@inventory/store';
import type { Knex } from 'knex';

/** What a read of the tail found. */
export interface StreamTail {
  /** Events of the types asked for, in stream order. */
  readonly events: ChangeEvent[];
  /** Whether more events may follow (the read was cut at its limit). */
  readonly more: boolean;
  /** Events retention trimmed before this consumer read them (it goes on from the oldest held). */
  readonly trimmed: number;
}

/**
 * Reads one consumer's tail of the change stream, by stream position, and moves its cursor past what it
 * read, in the caller's transaction: the cursor's row is locked until it ends, so one reader reads at a
 * time, and a rollback puts the cursor back, so that what the caller did with the events and the cursor
 * commit together. Positions are gap-free and a late commit simply gets a later one, so nothing can land
 * behind the cursor. A consumer's first read starts at the stream's end: what came before is history.
 */
export async function readStreamTail(
  trx: Knex.Transaction,
  consumer: string,
  limit: number,
  types: readonly string[],
): Promise<StreamTail> {
  const after = await lockStreamCursor({ trx, consumer });
  if (after === undefined) {
    await skipStreamTail(trx, consumer);
    return { events: [], more: false, trimmed: 0 };
  }
  const entries = await readStream({ db: trx, afterSequence: after, limit, types });
  const last = entries.at(-1)?.sequence;
  if (last !== undefined) await writeStreamCursor({ trx, consumer, afterSequence: last });
  return {
    events: entries.flatMap((e) => e.event ?? []),
    more: entries.length === limit,
    trimmed: entries.length > 0 ? entries[0]!.sequence - after - 1 : 0,
  };
}

/** Moves one consumer's cursor to the stream's end without reading what it passes. */
export async function skipStreamTail(trx: Knex.Transaction, consumer: string): Promise<void> {
  await lockStreamCursor({ trx, consumer });
  await writeStreamCursor({ trx, consumer, afterSequence: await lastStreamSequence({ db: trx }) });
}
