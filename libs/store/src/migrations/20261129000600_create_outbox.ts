import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/** The change stream: rows written in the same transaction as the change they announce. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('sequence');
    t.string('event_type', 64).notNullable();
    t.string('action_id', 36).notNullable();
    t.text('payload').notNullable();
    t.bigInteger('created_ms').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
}
