import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RequestIdReusedError } from '@inventory/domain';
import { firstAnswerOf, idempotencyKeyRow, type IdempotencyKeyRow } from '../tables/idempotency-keys';

/**
 * Runs a mutation once per request id. A retry with the same method and request returns the stored first
 * answer; a different request under the same id is refused. The answer is stored in the mutation's own
 * transaction, so it exists exactly when the mutation committed. Two concurrent first attempts both run;
 * the second fails on the primary key at commit time, its transaction is retried and returns the first answer.
 */
export async function oncePerRequestId<T>(
  {
    trx,
    requestId,
    method,
    request,
    nowMs,
  }: { trx: Knex.Transaction; requestId: string; method: string; request: unknown; nowMs: number },
  mutate: () => Promise<T>,
): Promise<T> {
  const requestHash = createHash('sha256').update(method).update('\0').update(JSON.stringify(request)).digest('hex');
  const row: IdempotencyKeyRow | undefined = await trx('idempotency_keys').where({ request_id: requestId }).first();
  if (row) {
    const earlier = firstAnswerOf<T>(row);
    if (earlier.requestHash !== requestHash) throw new RequestIdReusedError(requestId, earlier.method);
    return earlier.response;
  }
  const response = await mutate();
  await trx('idempotency_keys').insert(
    idempotencyKeyRow({ requestId, method, requestHash, response, createMs: nowMs }),
  );
  return response;
}
