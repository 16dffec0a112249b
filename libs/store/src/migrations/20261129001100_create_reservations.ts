import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reservations', (t) => {
    binaryKeys(knex, t);
    t.string('reservation_id', 128).primary('reservations_pk');
    // ACTIVE, RELEASED, CONSUMED or EXPIRED. An ACTIVE row past expire_ms is expired.
    t.string('state', 16).notNullable();
    t.bigInteger('expire_ms').notNullable();
    // The lines as asked for, with their current quantities and what was consumed (JSON). MEDIUMTEXT on
    // MySQL: a reservation of 1000 lines is larger than TEXT's 64 KiB.
    t.text('lines', 'mediumtext').notNullable();
    // Reserve is idempotent by reservation id: a retry must carry the same request and gets the first answer.
    t.string('request_hash', 64).notNullable();
    t.text('first_answer', 'mediumtext').notNullable();
    t.bigInteger('created_ms').notNullable();
    t.bigInteger('updated_ms').notNullable();
    // Serves the sweeper: active reservations by expiry.
    t.index(['state', 'expire_ms'], 'reservations_state_expire_ix');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reservations');
}
