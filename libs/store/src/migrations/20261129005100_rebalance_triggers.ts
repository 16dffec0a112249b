import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Rebalance triggers. A segment type's schedule keeps when its next scheduled rebalance is due, so that the
 * time survives a restart. Readers of the change stream keep how far they have read (and the holes left
 * behind by transactions not yet committed). The last system-detected rebalance of each item-node is kept
 * while it debounces the next one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rebalance_schedules', (t) => {
    binaryKeys(knex, t);
    t.string('segment_type', 32).primary('rebalance_schedules_pk');
    t.bigInteger('next_run_ms').notNullable();
    // The plan's frequency the next run time was set from, and the plan version it was read from.
    t.bigInteger('every_ms').notNullable();
    t.bigInteger('plan_version').notNullable();
  });
  await knex.schema.createTable('outbox_cursors', (t) => {
    binaryKeys(knex, t);
    t.string('consumer', 64).primary('outbox_cursors_pk');
    // The highest outbox sequence read, and the lower sequences not yet seen, as JSON ranges.
    t.bigInteger('after_sequence').notNullable();
    t.text('gaps', 'mediumtext').notNullable();
  });
  await knex.schema.createTable('rebalance_detections', (t) => {
    binaryKeys(knex, t);
    t.string('segment_type', 32).notNullable();
    t.string('item_id', 64).notNullable();
    t.string('node_id', 64).notNullable();
    t.bigInteger('detect_ms').notNullable();
    t.string('run_id', 64).notNullable();
    t.primary(['segment_type', 'item_id', 'node_id'], 'rebalance_detections_pk');
    t.index(['detect_ms'], 'rebalance_detections_time_ix');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rebalance_detections');
  await knex.schema.dropTable('outbox_cursors');
  await knex.schema.dropTable('rebalance_schedules');
}
