import { RequestIdReusedError } from '@inventory/domain';
import { migrateToLatest } from './database';
import { mutate } from './mutation';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './testing';

describeEachDatabase('mutate', (dialect) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    await migrateToLatest(test.db);
  });
  afterAll(async () => test.drop());

  // The change each mutation makes: a row in a real table, written in the mutation's transaction.
  const takeLease = (requestId: string, name: string, fail = false) =>
    mutate(
      { db: test.db, clock: () => 5_000, method: 'TakeLease', requestId, request: { name } },
      async (trx, nowMs) => {
        await trx('leases').insert({ name, holder: requestId, expire_ms: nowMs });
        if (fail) throw new Error('refused after writing');
        return { name, nowMs };
      },
    );
  const leases = (name: string) => test.db.knex('leases').where({ name });

  it('runs once per request id: a retry returns the first answer and changes nothing more', async () => {
    expect(await takeLease('r-1', 'once')).toEqual({ name: 'once', nowMs: 5_000 });
    expect(await takeLease('r-1', 'once')).toEqual({ name: 'once', nowMs: 5_000 });
    expect(await leases('once')).toHaveLength(1);
  });

  it('refuses a different request under a request id already used', async () => {
    await takeLease('r-2', 'first');
    await expect(takeLease('r-2', 'second')).rejects.toBeInstanceOf(RequestIdReusedError);
    expect(await leases('second')).toHaveLength(0);
  });

  it('keeps nothing of a mutation that fails, so the same request id can be tried again', async () => {
    await expect(takeLease('r-3', 'retried', true)).rejects.toThrow('refused after writing');
    expect(await leases('retried')).toHaveLength(0);
    expect(await takeLease('r-3', 'retried')).toEqual({ name: 'retried', nowMs: 5_000 });
    expect(await leases('retried')).toHaveLength(1);
  });
});
