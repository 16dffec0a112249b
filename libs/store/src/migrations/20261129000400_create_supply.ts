import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('supply', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('supply_id');
    t.string('item_id', 64).notNullable();
    t.string('unit_of_measure', 16).notNullable();
    t.string('product_class', 32).notNullable();
    t.string('node_id', 64).notNullable();
    // Both empty for the unsegmented pool.
    t.string('segment_type', 32).notNullable();
    t.string('segment', 64).notNullable();
    t.string('supply_type', 16).notNullable();
    // 0 for ONHAND, which has no ETA; a real ETA otherwise.
    t.bigInteger('eta_ms').notNullable();
    t.bigInteger('quantity').notNullable();
    t.bigInteger('last_sync_ms').nullable();
    t.bigInteger('updated_ms').notNullable();
    t.unique(
      ['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment', 'supply_type', 'eta_ms'],
      { indexName: 'supply_position_uq' },
    );
    t.index(['node_id', 'item_id'], 'supply_node_item_ix');
    t.foreign('node_id', 'supply_node_fk').references('node_id').inTable('nodes');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('supply');
}
