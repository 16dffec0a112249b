import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('nodes', (t) => {
    binaryKeys(knex, t);
    t.string('node_id', 64).notNullable();
    t.string('node_type', 16).notNullable();
    t.string('description', 255).notNullable().defaultTo('');
    t.bigInteger('created_ms').notNullable();
    t.primary(['node_id'], 'nodes_pk');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('nodes');
}
