import type { Knex } from 'knex';
import { chunks } from './chunks';

/** An event announcing a committed change. */
export interface OutboxEvent {
  readonly eventType: string;
  readonly actionId: string;
  readonly payload: unknown;
}

/**
 * Appends events to the change stream inside the caller's transaction: they commit with the change they
 * announce, or not at all.
 */
export async function appendOutbox({ trx, events, nowMs }: { trx: Knex.Transaction; events: readonly OutboxEvent[]; nowMs: number }): Promise<void> {
  for (const insert of outboxInserts(trx, events, nowMs)) await insert;
}

/** The INSERTs of {@link appendOutbox}, for a pipeline. */
export function outboxInserts(trx: Knex, events: readonly OutboxEvent[], nowMs: number): Knex.QueryBuilder[] {
  const rows = events.map((e) => ({ event_type: e.eventType, action_id: e.actionId, payload: JSON.stringify(e.payload), created_ms: nowMs }));
  return chunks(rows).map((chunk) => trx('outbox').insert(chunk));
}

/** Events of an action in sequence order. */
export async function outboxOfAction({ db, actionId }: { db: Knex; actionId: string }) {
  const rows = await db('outbox').where({ action_id: actionId }).orderBy('sequence');
  return rows.map((r) => ({ sequence: Number(r.sequence), eventType: r.event_type as string, payload: JSON.parse(r.payload) as unknown }));
}
