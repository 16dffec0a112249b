import { DatabaseUnavailableError, type DatabaseProblem } from '@inventory/domain';

/**
 * The one module that knows database driver error codes (mysql2, better-sqlite3, Node sockets, the pool).
 * Failures that mean "the database cannot serve this call" become a DatabaseUnavailableError; everything
 * else (a conflict a retry resolves, a constraint, a bug) passes through unchanged.
 */

/** Socket and protocol failures: the connection broke, or none could be made. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
]);

const CONNECTION_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1077, // ER_NORMAL_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1927, // ER_CONNECTION_KILLED (MariaDB)
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
]);

/** The server answers, but the schema this service needs is gone. */
const NOT_USABLE_ERRNOS = new Set([
  1049, // ER_BAD_DB_ERROR: the database was dropped
  1146, // ER_NO_SUCH_TABLE
]);

/** mysql2 reports a write to a closed connection with a message only. */
const CONNECTION_MESSAGES = [
  /socket has been ended by the other party/i,
  /connection is in closed state/i,
  /connection lost/i,
];

/** SQLite codes meaning the file cannot be used (busy locks are conflicts, retried elsewhere). */
const SQLITE_NOT_USABLE = /^SQLITE_(CANTOPEN|CORRUPT|NOTADB|IOERR|READONLY_DBMOVED)/;

/** What a driver error means for the caller, or `undefined` when it is not about the database's availability. */
export function databaseProblemOf(err: unknown): DatabaseProblem | undefined {
  // Duck-typed, not `instanceof Error`: a native driver may build its errors from another realm's Error.
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; message?: unknown; code?: unknown; errno?: unknown; fatal?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const errno = typeof e.errno === 'number' ? e.errno : -1;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'KnexTimeoutError' || CONNECTION_CODES.has(code) || CONNECTION_ERRNOS.has(errno))
    return 'CONNECTION_LOST';
  if (NOT_USABLE_ERRNOS.has(errno) || SQLITE_NOT_USABLE.test(code)) return 'NOT_USABLE';
  if (code === 'SQLITE_ERROR' && /no such table/i.test(message)) return 'NOT_USABLE';
  if (CONNECTION_MESSAGES.some((m) => m.test(message))) return 'CONNECTION_LOST';
  // mysql2 marks every error after which the connection is unusable as fatal.
  if (e.fatal === true) return 'CONNECTION_LOST';
  return undefined;
}

/** The error to report for a driver error: a DatabaseUnavailableError when it is one, else the error itself. */
export function fromDriverError(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  const problem = databaseProblemOf(err);
  return problem === undefined ? err : new DatabaseUnavailableError(problem, { cause: err });
}

/** Whether `err` is a broken or missing connection, which a fresh connection may not have. */
export function isConnectionLost(err: unknown): boolean {
  return err instanceof DatabaseUnavailableError && err.problem === 'CONNECTION_LOST';
}
