import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('distribution_groups', (t) => {
    binaryKeys(knex, t);
    t.string('distribution_group_id', 64).notNullable();
    t.string('description', 255).notNullable().defaultTo('');
    t.bigInteger('created_ms').notNullable();
    t.primary(['distribution_group_id'], 'distribution_groups_pk');
  });
  await knex.schema.createTable('distribution_group_nodes', (t) => {
    binaryKeys(knex, t);
    t.string('distribution_group_id', 64).notNullable();
    // 0 is the first node to source from.
    t.integer('priority').notNullable();
    t.string('node_id', 64).notNullable();
    t.primary(['distribution_group_id', 'priority'], 'distribution_group_nodes_pk');
    t.unique(['distribution_group_id', 'node_id'], { indexName: 'distribution_group_nodes_node_uq' });
    t.foreign('distribution_group_id', 'distribution_group_nodes_group_fk')
      .references('distribution_group_id')
      .inTable('distribution_groups');
    t.foreign('node_id', 'distribution_group_nodes_node_fk').references('node_id').inTable('nodes');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('distribution_group_nodes');
  await knex.schema.dropTable('distribution_groups');
}
