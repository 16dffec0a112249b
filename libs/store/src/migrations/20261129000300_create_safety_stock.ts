import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('safety_stock', (t) => {
    binaryKeys(knex, t);
    t.string('item_id', 64).notNullable();
    t.string('unit_of_measure', 16).notNullable();
    t.string('product_class', 32).notNullable();
    // Empty for the item-level rule that applies at every node.
    t.string('node_id', 64).notNullable();
    t.bigInteger('quantity').notNullable();
    t.bigInteger('updated_ms').notNullable();
    t.primary(['item_id', 'unit_of_measure', 'product_class', 'node_id'], 'safety_stock_pk');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('safety_stock');
}
