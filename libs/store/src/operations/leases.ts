import type { Knex } from 'knex';
import { leaseOf, leaseRow, type LeaseRow } from '../tables/leases';

/**
 * Takes or renews the lease `name` for `holder` until `nowMs + ttlMs`, unless another holder's lease is
 * still running. The row lock makes two replicas that try at once take turns; the loser sees the winner's
 * lease. Returns whether `holder` holds the lease.
 */
export async function acquireLease({
  trx,
  name,
  holder,
  nowMs,
  ttlMs,
}: {
  trx: Knex.Transaction;
  name: string;
  holder: string;
  nowMs: number;
  ttlMs: number;
}): Promise<boolean> {
  const row: LeaseRow | undefined = await trx('leases').where({ name }).forUpdate().first();
  const renewed = leaseRow({ name, holder, expireMs: nowMs + ttlMs });
  if (!row) {
    await trx('leases').insert(renewed);
    return true;
  }
  const lease = leaseOf(row);
  if (lease.holder !== holder && lease.expireMs > nowMs) return false;
  await trx('leases').where({ name }).update(renewed);
  return true;
}

/** Gives a lease up (on shutdown), so another replica need not wait for it to run out. */
export async function releaseLease({ db, name, holder }: { db: Knex; name: string; holder: string }): Promise<void> {
  await db('leases').where({ name, holder }).delete();
}
