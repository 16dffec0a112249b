import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/** Scheduled work that one replica at a time may run (the expiry sweeper) takes a lease here. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('leases', (t) => {
    binaryKeys(knex, t);
    t.string('name', 64).primary('leases_pk');
    t.string('holder', 64).notNullable();
    t.bigInteger('expire_ms').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('leases');
}
