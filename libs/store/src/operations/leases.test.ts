import { migrateToLatest } from '../database';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../testing';
import { inTransaction } from '../transaction';
import { acquireLease, releaseLease } from './leases';

describeEachDatabase('leases', (dialect) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    await migrateToLatest(test.db);
  });
  afterAll(async () => test.drop());

  const acquire = (name: string, holder: string, nowMs: number) =>
    inTransaction(test.db, (trx) => acquireLease({ trx, name, holder, nowMs, ttlMs: 1000 }));

  it('gives a lease to exactly one of many replicas asking at once', async () => {
    const won = await Promise.all(Array.from({ length: 10 }, (_, i) => acquire('sweeper', `replica-${i}`, 10_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('lets the holder renew, others take it only once it has run out or been given up', async () => {
    expect(await acquire('job', 'a', 1_000)).toBe(true);
    expect(await acquire('job', 'b', 1_500)).toBe(false);
    expect(await acquire('job', 'a', 1_900)).toBe(true);
    expect(await acquire('job', 'b', 2_800)).toBe(false);
    expect(await acquire('job', 'b', 2_901)).toBe(true);
    await releaseLease({ db: test.db.knex, name: 'job', holder: 'b' });
    expect(await acquire('job', 'c', 2_902)).toBe(true);
  });
});
