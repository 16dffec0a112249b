import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * One row per item, node and segment: the running totals a reservation is checked against, so that the
 * check and the hold are one conditional UPDATE. Rows for supply or demand recorded before this table existed
 * are created with next_eta_ms 0, which makes the first reservation there recount them from those rows. A key
 * with demand but no supply needs its row too: supply that arrives later only adds its own delta to it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stock_positions', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('position_id');
    t.string('item_id', 64).notNullable();
    t.string('unit_of_measure', 16).notNullable();
    t.string('product_class', 32).notNullable();
    t.string('node_id', 64).notNullable();
    t.string('segment_type', 32).notNullable();
    t.string('segment', 64).notNullable();
    // Counted supply due by now: ONHAND plus non-PLAN supply whose ETA has passed.
    t.bigInteger('supply').notNullable().defaultTo(0);
    // Counted demand: every type but PLAN.
    t.bigInteger('demand').notNullable().defaultTo(0);
    // Units of HELD reservation holds, including holds past expiry that no one has released yet.
    t.bigInteger('reserved').notNullable().defaultTo(0);
    // The earliest ETA of counted supply not yet in `supply`; once it passes, the row is recounted.
    t.bigInteger('next_eta_ms').notNullable();
    t.unique(['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment'], {
      indexName: 'stock_positions_key_uq',
    });
  });
  const keys = ['item_id', 'unit_of_measure', 'product_class', 'node_id', 'segment_type', 'segment'];
  const recorded = knex
    .select(keys)
    .from('supply')
    .union([knex.select(keys).from('demand')]);
  await knex
    .insert(knex.select([...keys, knex.raw('0 as next_eta_ms')]).from(recorded.as('recorded')))
    .into(knex.raw('?? (??, ??, ??, ??, ??, ??, ??)', ['stock_positions', ...keys, 'next_eta_ms']));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stock_positions');
}
