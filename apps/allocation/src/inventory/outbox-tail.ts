import type { ChangeEvent } from '@inventory/contracts/events';
import {
  lastOutboxSequence,
  lockOutboxCursor,
  readOutboxOfTypes,
  writeOutboxCursor,
  type OutboxCursor,
  type OutboxEntry,
  type SequenceGap,
} from '@inventory/store';
import type { Knex } from 'knex';

/**
 * How long a hole in the outbox sequence below a reader's cursor is watched for a late commit. Longer than
 * MariaDB's default lock wait (50 s), the longest a transaction of this service waits before it commits or
 * fails; a hole still open after it is taken for a rolled-back transaction.
 */
export const GAP_GRACE_MS = 60_000;

/** What a read of the tail found. */
export interface OutboxTail {
  /**
   * Events of the types asked for that committed late into holes below the cursor, then those after it, in
   * sequence order each.
   */
  readonly events: ChangeEvent[];
  /** Whether more events may follow after the cursor (the read was cut at its limit). */
  readonly more: boolean;
}

/**
 * Reads one consumer's tail of the change stream and moves its cursor past what it read, in the caller's
 * transaction: the cursor's row is locked until it ends, so one reader reads at a time, and a rollback puts
 * the cursor back, so that what the caller did with the events and the cursor commit together.
 *
 * Outbox sequences are handed out when a row is inserted, not when it commits, so a transaction that commits
 * late lands behind rows already read. The cursor keeps the holes below it and re-reads them on every read; a
 * hole is forgotten GAP_GRACE_MS after it was first seen. An event whose transaction commits later than that
 * after a higher-numbered event was read is missed. (On SQLite writers take turns, so there sequences follow
 * commit order and holes come only from rollbacks.)
 *
 * A consumer's first read starts at the end of the outbox: what came before is history, not news.
 */
export async function readOutboxTail(
  trx: Knex.Transaction,
  consumer: string,
  nowMs: number,
  limit: number,
  types: readonly string[],
): Promise<OutboxTail> {
  const cursor = await lockOutboxCursor({ trx, consumer });
  if (!cursor) {
    const start = { afterSequence: await lastOutboxSequence({ db: trx }), gaps: [] };
    await writeOutboxCursor({ trx, consumer, cursor: start });
    return { events: [], more: false };
  }
  const late: OutboxEntry[] = [];
  for (const gap of cursor.gaps) {
    const rows = await readOutboxOfTypes({
      db: trx,
      afterSequence: gap.from - 1,
      limit: Math.min(gap.to - gap.from + 1, limit),
      types,
    });
    late.push(...rows.filter((e) => e.sequence <= gap.to));
  }
  const fresh = await readOutboxOfTypes({ db: trx, afterSequence: cursor.afterSequence, limit, types });
  const next = cursorAfter(
    cursor,
    late.map((e) => e.sequence),
    fresh.map((e) => e.sequence),
    nowMs,
  );
  await writeOutboxCursor({ trx, consumer, cursor: next });
  return { events: [...late, ...fresh].flatMap((e) => e.event ?? []), more: fresh.length === limit };
}

/**
 * Moves one consumer's cursor to the end of the change stream without reading what it passes (no holes
 * kept), for a consumer that has nothing to look for in it now.
 */
export async function skipOutboxTail(trx: Knex.Transaction, consumer: string): Promise<void> {
  await lockOutboxCursor({ trx, consumer });
  await writeOutboxCursor({
    trx,
    consumer,
    cursor: { afterSequence: await lastOutboxSequence({ db: trx }), gaps: [] },
  });
}

/**
 * The cursor after a read that found `late` sequences in its holes and `fresh` ones (ascending) after it: the
 * holes without what was found and without those older than GAP_GRACE_MS, plus the new holes between the
 * fresh sequences; the cursor at the last fresh one.
 */
export function cursorAfter(
  cursor: OutboxCursor,
  late: readonly number[],
  fresh: readonly number[],
  nowMs: number,
): OutboxCursor {
  const found = [...late].sort((a, b) => a - b);
  const gaps = cursor.gaps
    .filter((g) => nowMs - g.seenMs < GAP_GRACE_MS)
    .flatMap((g) =>
      without(
        g,
        found.filter((s) => s >= g.from && s <= g.to),
      ),
    );
  let afterSequence = cursor.afterSequence;
  for (const sequence of fresh) {
    if (sequence > afterSequence + 1) gaps.push({ from: afterSequence + 1, to: sequence - 1, seenMs: nowMs });
    afterSequence = sequence;
  }
  return { afterSequence, gaps };
}

/** What is left of a hole once the ascending sequences `found` in it are taken out. */
function without(gap: SequenceGap, found: readonly number[]): SequenceGap[] {
  const left: SequenceGap[] = [];
  let from = gap.from;
  for (const sequence of found) {
    if (sequence > from) left.push({ from, to: sequence - 1, seenMs: gap.seenMs });
    from = sequence + 1;
  }
  if (from <= gap.to) left.push({ from, to: gap.to, seenMs: gap.seenMs });
  return left;
}
