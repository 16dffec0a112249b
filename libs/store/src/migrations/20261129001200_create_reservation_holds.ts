import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * What each reservation line holds at each node. A position's `reserved` is the sum of its HELD holds.
 * position_id has no foreign key on purpose: checking one would take a shared lock on the position row,
 * and every reservation there then needs the exclusive lock for its UPDATE, so concurrent reservations of
 * a hot item would deadlock on the lock upgrade. Holds are only written next to the position's UPDATE.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reservation_holds', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('hold_id');
    t.string('reservation_id', 128).notNullable();
    t.integer('line_index').notNullable();
    t.bigInteger('position_id').unsigned().notNullable();
    t.string('node_id', 64).notNullable();
    t.string('item_id', 64).notNullable();
    t.bigInteger('quantity').notNullable();
    // HELD, RELEASED, CONSUMED or EXPIRED.
    t.string('state', 16).notNullable();
    // A copy of the reservation's expiry, so a position can find its expired holds.
    t.bigInteger('expire_ms').notNullable();
    t.unique(['reservation_id', 'line_index', 'node_id'], { indexName: 'reservation_holds_line_uq' });
    t.index(['position_id', 'state', 'expire_ms'], 'reservation_holds_position_ix');
    t.foreign('reservation_id', 'reservation_holds_reservation_fk')
      .references('reservation_id')
      .inTable('reservations');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reservation_holds');
}
