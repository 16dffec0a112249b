import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Allocation plans: one per segment type, kept as versions (1, 2, ...); the highest version of a segment type
 * is its current plan.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('allocation_plan_versions', (t) => {
    binaryKeys(knex, t);
    t.string('segment_type', 32).notNullable();
    t.bigInteger('version').notNullable();
    // The plan's rules and settings, as JSON written by the store: up to 100 rules of up to 100 segments
    // and 2000 ids each, more than a TEXT column holds on MySQL.
    t.text('plan', 'mediumtext').notNullable();
    t.string('request_id', 128).notNullable();
    t.bigInteger('create_ms').notNullable();
    t.primary(['segment_type', 'version'], 'allocation_plan_versions_pk');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('allocation_plan_versions');
}
