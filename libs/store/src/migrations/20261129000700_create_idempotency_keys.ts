import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/** The first answer to every mutation, by request id, so that a retry returns it and changes nothing. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    binaryKeys(knex, t);
    t.string('request_id', 128).notNullable();
    t.string('method', 64).notNullable();
    t.string('request_hash', 64).notNullable();
    t.text('response', 'mediumtext').notNullable();
    t.bigInteger('created_ms').notNullable();
    t.primary(['request_id'], 'idempotency_keys_pk');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
