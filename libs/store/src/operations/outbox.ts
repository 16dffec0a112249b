import type { Knex } from 'knex';

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
  for (let i = 0; i < events.length; i += CHUNK) await outboxInsert(trx, events.slice(i, i + CHUNK), nowMs);
}

/** The INSERT of {@link appendOutbox}, for a pipeline. */
export function outboxInsert(trx: Knex, events: readonly OutboxEvent[], nowMs: number): Knex.QueryBuilder {
  return trx('outbox').insert(events.map((e) => ({ event_type: e.eventType, action_id: e.actionId, payload: JSON.stringify(e.payload), created_ms: nowMs })));
}

const CHUNK = 200;

/** Events of an action in sequence order. */
export async function outboxOfAction({ db, actionId }: { db: Knex; actionId: string }) {
  const rows = await db('outbox').where({ action_id: actionId }).orderBy('sequence');
  return rows.map((r) => ({ sequence: Number(r.sequence), eventType: r.event_type as string, payload: JSON.parse(r.payload) as unknown }));
}
