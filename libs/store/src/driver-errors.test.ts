import { DatabaseUnavailableError } from '@inventory/domain';
import { databaseProblemOf, fromDriverError } from './driver-errors';
import { retryingLostConnection } from './transaction';

const driverError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('driver errors', () => {
  it.each([
    [
      'a killed connection',
      driverError('Connection lost: The server closed the connection.', {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
    ],
    ['a write to a closed socket', driverError('This socket has been ended by the other party', { code: 'EPIPE' })],
    [
      'a command on a closed connection',
      driverError("Can't add new command when connection is in closed state", { fatal: true }),
    ],
    ['a reset', driverError('read ECONNRESET', { code: 'ECONNRESET', errno: -104 })],
    ['a refused connect', driverError('connect ECONNREFUSED 127.0.0.1:3306', { code: 'ECONNREFUSED', errno: -111 })],
    ['a pool timeout', Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' })],
  ])('reports %s as a lost connection', (_what, err) => {
    expect(databaseProblemOf(err)).toBe('CONNECTION_LOST');
    expect(fromDriverError(err)).toMatchObject({
      reason: 'DATABASE_UNAVAILABLE',
      problem: 'CONNECTION_LOST',
      cause: err,
    });
  });

  it.each([
    ['a dropped table', driverError("Table 'inv.supply' doesn't exist", { code: 'ER_NO_SUCH_TABLE', errno: 1146 })],
    ['a dropped database', driverError("Unknown database 'inv'", { code: 'ER_BAD_DB_ERROR', errno: 1049 })],
    ['a missing SQLite table', driverError('no such table: supply', { code: 'SQLITE_ERROR' })],
  ])('reports %s as a database that is not usable', (_what, err) => {
    expect(databaseProblemOf(err)).toBe('NOT_USABLE');
  });

  it.each([
    ['a deadlock', driverError('Deadlock found', { code: 'ER_LOCK_DEADLOCK', errno: 1213 })],
    ['a duplicate key', driverError('Duplicate entry', { code: 'ER_DUP_ENTRY', errno: 1062 })],
    ['a busy SQLite file', driverError('database is locked', { code: 'SQLITE_BUSY' })],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
  ])('leaves %s alone', (_what, err) => {
    expect(fromDriverError(err)).toBe(err);
  });
});

describe('retryingLostConnection', () => {
  const lost = () => new DatabaseUnavailableError('CONNECTION_LOST');

  it('runs a transaction again once when its connection was lost before it began', async () => {
    let attempts = 0;
    const result = await retryingLostConnection(async () => {
      if (++attempts === 1) throw lost();
      return 'done';
    });
    expect([result, attempts]).toEqual(['done', 2]);
  });

  it('gives up after the second lost connection', async () => {
    let attempts = 0;
    await expect(retryingLostConnection(async () => (++attempts, Promise.reject(lost())))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(attempts).toBe(2);
  });

  it('does not run again a transaction that had begun, nor one that failed otherwise', async () => {
    let attempts = 0;
    await expect(
      retryingLostConnection(async (started) => {
        attempts++;
        started();
        throw lost();
      }),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(
      retryingLostConnection(async () => (attempts++, Promise.reject(new DatabaseUnavailableError('NOT_USABLE')))),
    ).rejects.toThrow();
    expect(attempts).toBe(2);
  });
});
