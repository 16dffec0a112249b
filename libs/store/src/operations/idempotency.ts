import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RequestIdReusedError } from '@inventory/domain';

/**
 * Runs a mutation once per request id. A retry with the same method and request returns the stored first
 * answer; a different request under the same id is refused. The answer is stored in the mutation's own
 * transaction, so it exists exactly when the mutation committed. Two concurrent first attempts both run;
 * the second fails on the primary key at commit time, its transaction is retried and returns the first answer.
 */
export async function oncePerRequestId<T>(
  { trx, requestId, method, request, nowMs }: { trx: Knex.Transaction; requestId: string; method: string; request: unknown; nowMs: number },
  mutate: () => Promise<T>,
): Promise<T> {
  const requestHash = createHash('sha256').update(method).update('\0').update(JSON.stringify(request)).digest('hex');
  const earlier = await trx('idempotency_keys').where({ request_id: requestId }).first();
  if (earlier) {
    if (earlier.request_hash !== requestHash) throw new RequestIdReusedError(requestId, earlier.method);
    return JSON.parse(earlier.response) as T;
  }
  const response = await mutate();
  await trx('idempotency_keys').insert({
    request_id: requestId,
    method,
    request_hash: requestHash,
    response: JSON.stringify(response),
    created_ms: nowMs,
  });
  return response;
}
