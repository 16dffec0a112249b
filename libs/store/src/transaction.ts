import type { Knex } from 'knex';
import { hasWrittenEvents } from './commits';
import type { Database } from './database';
import { isConnectionLost } from './driver-errors';

const MAX_ATTEMPTS = 8;

/**
 * Runs `work` in one transaction and retries it, from the start, when the database reports a conflict
 * that a retry resolves: a deadlock, a lock wait timeout, a unique-key race between two first inserts,
 * or SQLite's busy lock (another process writing the same file). `work` must therefore do nothing outside the transaction.
 */
export async function inTransaction<T>(db: Database, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return retryingConflicts(() =>
    retryingLostConnection((started) =>
      inTransactionOnce(db, (trx) => {
        // Knex calls this once BEGIN has succeeded.
        started();
        return work(trx);
      }),
    ),
  );
}

/**
 * Runs `work` in one transaction, once, and after it commits notifies `db.commits` if it wrote change
 * events (see markEventsWritten).
 */
export async function inTransactionOnce<T>(db: Database, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let transaction: Knex.Transaction | undefined;
  const result = await db.knex.transaction((trx) => {
    transaction = trx;
    return work(trx);
  });
  if (transaction && hasWrittenEvents(transaction)) db.commits.notify();
  return result;
}

/**
 * Runs `attempt` once more when it fails with a lost connection (DatabaseUnavailableError) before it called
 * `started`: the connection broke (killed by the server, reset, closed while idle in the pool) before the
 * transaction began, so nothing of it reached the database and a retry cannot apply anything twice. The
 * pool discards a broken connection, so the second attempt gets a fresh one (or fails the same way, and
 * the caller sees UNAVAILABLE). Once started, a failure is reported as it is: the transaction is rolled
 * back by the server, and the caller's request id makes its own retry safe.
 */
export async function retryingLostConnection<T>(attempt: (started: () => void) => Promise<T>): Promise<T> {
  let started = false;
  try {
    return await attempt(() => (started = true));
  } catch (err) {
    if (started || !isConnectionLost(err)) throw err;
  }
  return attempt(() => undefined);
}

/** Runs `attempt` again, after a short random pause, while it fails with a conflict a retry resolves. */
export async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
      await sleep(Math.random() * 5 * 2 ** n);
    }
  }
}

const RETRYABLE_MYSQL_ERRNOS = new Set([
  1213, // ER_LOCK_DEADLOCK
  1205, // ER_LOCK_WAIT_TIMEOUT
  1062, // ER_DUP_ENTRY: another transaction inserted the same position or request id first
]);

function isRetryable(err: unknown): boolean {
  const e = err as { errno?: number; code?: string };
  // SQLITE_BUSY_SNAPSHOT: another process committed after this transaction's snapshot, so it cannot write.
  return RETRYABLE_MYSQL_ERRNOS.has(e.errno ?? -1) || (e.code ?? '').startsWith('SQLITE_BUSY');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
