import type { Knex } from 'knex';

/**
 * A reservation's event carries the whole reservation, up to 1000 lines: more than MySQL's TEXT holds
 * (64 KiB). SQLite's TEXT has no such limit, so only MySQL changes.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2') return;
  await knex.schema.alterTable('outbox', (t) => {
    t.text('payload', 'mediumtext').notNullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2') return;
  await knex.schema.alterTable('outbox', (t) => {
    t.text('payload').notNullable().alter();
  });
}
