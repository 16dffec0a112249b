import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/** Append-only: one row per demand sync or adjust line (and per consumed reservation line). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('demand_ledger', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('ledger_id');
    t.string('action_id', 36).notNullable();
    t.string('request_id', 128).notNullable();
    t.bigInteger('demand_id').unsigned().notNullable();
    t.string('transaction_type', 8).notNullable();
    t.bigInteger('quantity').notNullable();
    t.bigInteger('source_ms').notNullable();
    t.string('outcome', 24).notNullable();
    t.bigInteger('quantity_before').notNullable();
    t.bigInteger('quantity_after').notNullable();
    t.string('reason', 64).notNullable().defaultTo('');
    t.bigInteger('recorded_ms').notNullable();
    t.index(['demand_id', 'transaction_type', 'source_ms'], 'demand_ledger_position_ix');
    t.index(['action_id'], 'demand_ledger_action_ix');
    t.foreign('demand_id', 'demand_ledger_demand_fk').references('demand_id').inTable('demand');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('demand_ledger');
}
