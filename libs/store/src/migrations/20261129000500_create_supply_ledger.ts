import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/** Append-only: one row per sync or adjust line, applied or ignored. Never updated or deleted. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('supply_ledger', (t) => {
    binaryKeys(knex, t);
    t.bigIncrements('ledger_id');
    t.string('action_id', 36).notNullable();
    t.string('request_id', 128).notNullable();
    t.bigInteger('supply_id').unsigned().notNullable();
    // SYNC or ADJUST.
    t.string('transaction_type', 8).notNullable();
    // The synced quantity, or the adjust's delta.
    t.bigInteger('quantity').notNullable();
    t.bigInteger('source_ms').notNullable();
    // APPLIED or IGNORED_SUPERSEDED.
    t.string('outcome', 24).notNullable();
    t.bigInteger('quantity_before').notNullable();
    t.bigInteger('quantity_after').notNullable();
    t.string('reason', 64).notNullable().defaultTo('');
    t.bigInteger('recorded_ms').notNullable();
    // Serves "adjusts applied to this position after a sync's source time".
    t.index(['supply_id', 'transaction_type', 'source_ms'], 'supply_ledger_position_ix');
    t.index(['action_id'], 'supply_ledger_action_ix');
    t.foreign('supply_id', 'supply_ledger_supply_fk').references('supply_id').inTable('supply');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('supply_ledger');
}
