import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Rebalancing. The supply ledger records why each change was made and by whom (DESIGN §2 "Audit"): its purpose,
 * audit type, actor, the parent and related actions, and, for a move a rebalance made, the allocation behind it
 * (rule, plan version, every participant's quantities, as JSON). Existing rows were syncs and adjusts callers
 * asked for. Rebalance runs are kept with their scope, progress and the cursor a resumed run continues from.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('supply_ledger', (t) => {
    t.string('purpose', 32).notNullable().defaultTo('');
    t.string('audit_type', 8).notNullable().defaultTo('USER');
    t.string('actor', 128).notNullable().defaultTo('');
    t.string('parent_action_id', 64).notNullable().defaultTo('');
    t.string('related_action_id', 64).notNullable().defaultTo('');
    t.text('allocation').nullable();
  });
  await knex('supply_ledger').where({ transaction_type: 'SYNC' }).update({ purpose: 'SUPPLY_SYNC' });
  await knex('supply_ledger').where({ transaction_type: 'ADJUST' }).update({ purpose: 'SUPPLY_ADJUSTMENT' });
  await knex.schema.createTable('rebalance_runs', (t) => {
    binaryKeys(knex, t);
    t.string('run_id', 64).primary('rebalance_runs_pk');
    t.string('segment_type', 32).notNullable();
    // The item ids and node ids in scope, as JSON (up to 1000 of each).
    t.text('scope', 'mediumtext').notNullable();
    t.string('trigger_kind', 16).notNullable();
    // RUNNING, SUCCEEDED, CANCELLED or FAILED.
    t.string('state', 16).notNullable();
    t.bigInteger('plan_version').notNullable();
    t.bigInteger('item_nodes_total').notNullable();
    t.bigInteger('item_nodes_done').notNullable();
    t.bigInteger('item_nodes_changed').notNullable();
    t.bigInteger('moves').notNullable();
    t.bigInteger('units_moved').notNullable();
    // The last item-node done (JSON), so that a resumed run continues after it; null before the first page.
    t.text('cursor').nullable();
    t.bigInteger('start_ms').notNullable();
    t.bigInteger('finish_ms').nullable();
    t.text('error').nullable();
    t.string('actor', 128).notNullable();
    t.string('request_id', 128).notNullable();
    t.index(['state', 'start_ms'], 'rebalance_runs_state_ix');
    t.index(['segment_type', 'start_ms'], 'rebalance_runs_type_ix');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rebalance_runs');
  await knex.schema.alterTable('supply_ledger', (t) => {
    for (const c of ['purpose', 'audit_type', 'actor', 'parent_action_id', 'related_action_id', 'allocation'])
      t.dropColumn(c);
  });
}
