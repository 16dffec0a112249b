import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('demand', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('demand_id');
    t.string('item_id', 64).notNullable();
    t.string('unit_of_measure', 16).notNullable();
    t.string('product_class', 32).notNullable();
    t.string('node_id', 64).notNullable();
    t.string('segment_type', 32).notNullable();
    t.string('segment', 64).notNullable();
    t.string('demand_type', 16).notNullable();
    // Empty for demand kept as one total.
    t.string('order_reference', 128).notNullable();
    t.bigInteger('quantity').notNullable();
    t.bigInteger('last_sync_ms').nullable();
    t.bigInteger('updated_ms').notNullable();
    t.unique(
      [
        'item_id',
        'unit_of_measure',
        'product_class',
        'node_id',
        'segment_type',
        'segment',
        'demand_type',
        'order_reference',
      ],
      { indexName: 'demand_position_uq' },
    );
    t.index(['node_id', 'item_id'], 'demand_node_item_ix');
    t.foreign('node_id', 'demand_node_fk').references('node_id').inTable('nodes');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('demand');
}
