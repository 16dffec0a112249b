import type { Knex } from 'knex';
import type { Clock } from '@inventory/domain';
import type { Database } from './database';
import { oncePerRequestId } from './operations/idempotency';
import { inTransaction } from './transaction';

/**
 * Runs a mutation the one way every mutation runs: in one transaction (retried on conflicts), once per
 * request id, with the answer stored beside the change it describes. `nowMs` is read once per attempt, so a
 * retried attempt dates its change by when it ran.
 */
export function mutate<T>(
  {
    db,
    clock,
    method,
    requestId,
    request,
  }: { db: Database; clock: Clock; method: string; requestId: string; request: unknown },
  work: (trx: Knex.Transaction, nowMs: number) => Promise<T>,
): Promise<T> {
  return inTransaction(db, (trx) => {
    const nowMs = clock();
    return oncePerRequestId({ trx, requestId, method, request, nowMs }, () => work(trx, nowMs));
  });
}
