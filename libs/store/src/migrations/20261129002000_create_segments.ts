import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Segment types and their segments. A segment is never deleted: retiring it sets its state, so that the
 * stock rows recorded in it keep naming something that exists.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('segment_types', (t) => {
    binaryKeys(knex, t);
    t.string('segment_type', 32).notNullable();
    t.string('description', 255).notNullable().defaultTo('');
    t.bigInteger('created_ms').notNullable();
    t.primary(['segment_type'], 'segment_types_pk');
  });
  await knex.schema.createTable('segments', (t) => {
    binaryKeys(knex, t);
    t.string('segment_type', 32).notNullable();
    t.string('segment', 64).notNullable();
    t.string('description', 255).notNullable().defaultTo('');
    // ACTIVE or RETIRED.
    t.string('state', 16).notNullable();
    t.bigInteger('created_ms').notNullable();
    t.bigInteger('updated_ms').notNullable();
    t.bigInteger('retired_ms').nullable();
    t.primary(['segment_type', 'segment'], 'segments_pk');
    t.foreign('segment_type', 'segments_segment_type_fk').references('segment_type').inTable('segment_types');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('segments');
  await knex.schema.dropTable('segment_types');
}
