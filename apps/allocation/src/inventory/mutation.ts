import type { Knex } from 'knex';
import { inTransaction, oncePerRequestId, type Database } from '@inventory/store';
import type { Clock } from './clock';

/**
 * Runs a mutation the one way every mutation runs: in one transaction (retried on conflicts), once per
 * request id, with the answer stored beside the change it describes.
 */
export function mutate<T>(
  { db, clock, method, requestId, request }: { db: Database; clock: Clock; method: string; requestId: string; request: unknown },
  work: (trx: Knex.Transaction, nowMs: number) => Promise<T>,
): Promise<T> {
  return inTransaction(db, (trx) => {
    const nowMs = clock();
    return oncePerRequestId({ trx, requestId, method, request, nowMs }, () => work(trx, nowMs));
  });
}
