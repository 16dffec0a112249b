import type { Knex } from 'knex';

/**
 * Takes or renews the lease `name` for `holder` until `nowMs + ttlMs`, unless another holder's lease is
 * still running. The row lock makes two replicas that try at once take turns; the loser sees the winner's
 * lease. Returns whether `holder` holds the lease.
 */
export async function acquireLease(
  { trx, name, holder, nowMs, ttlMs }: { trx: Knex.Transaction; name: string; holder: string; nowMs: number; ttlMs: number },
): Promise<boolean> {
  const lease = await trx('leases').where({ name }).forUpdate().first();
  if (!lease) {
    await trx('leases').insert({ name, holder, expire_ms: nowMs + ttlMs });
    return true;
  }
  if (lease.holder !== holder && Number(lease.expire_ms) > nowMs) return false;
  await trx('leases').where({ name }).update({ holder, expire_ms: nowMs + ttlMs });
  return true;
}

/** Gives a lease up (on shutdown), so another replica need not wait for it to run out. */
export async function releaseLease({ db, name, holder }: { db: Knex; name: string; holder: string }): Promise<void> {
  await db('leases').where({ name, holder }).delete();
}
