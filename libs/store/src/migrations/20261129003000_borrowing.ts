import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Borrowing from the unsegmented pool. Each stock position keeps the loan it was last settled at: for a
 * segment's position what it owes the pool at its item and node, for the pool's position the sum of those
 * (what it has lent). Existing positions owe nothing: until now no segment could hold stock.
 * The consumption rules are kept as versions, each change a new row; the highest version is in force.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('stock_positions', (t) => {
    t.bigInteger('loan').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('consumption_rule_versions', (t) => {
    binaryKeys(knex, t);
    t.bigInteger('version').primary('consumption_rule_versions_pk');
    t.boolean('borrowing_enabled').notNullable();
    // The per-segment rules, as JSON written by the store (a handful of segments).
    t.text('segments').notNullable();
    t.string('request_id', 128).notNullable();
    t.bigInteger('create_ms').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('consumption_rule_versions');
  await knex.schema.alterTable('stock_positions', (t) => {
    t.dropColumn('loan');
  });
}
