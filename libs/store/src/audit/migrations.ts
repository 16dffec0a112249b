import type { Knex } from 'knex';
import { binaryKeys } from '../migrations/conventions';

/**
 * The audit app's tables. They have their own migration list and bookkeeping table
 * (`audit_knex_migrations`), so that they can live in a database of their own or beside the allocation
 * app's tables in the same one.
 */
const createAuditRecords: Knex.Migration = {
  async up(knex) {
    // One row: how far the consumer has stored the change stream, written with every batch of records.
    await knex.schema.createTable('audit_consumer', (t) => {
      binaryKeys(knex, t);
      t.string('name', 32).primary('audit_consumer_pk');
      t.bigInteger('consumed_sequence').notNullable();
      t.bigInteger('stored_ms').nullable();
      t.string('rebuild_request_id', 128).nullable();
      t.bigInteger('rebuild_records_deleted').nullable();
      t.bigInteger('rebuild_previous_sequence').nullable();
    });
    await knex('audit_consumer').insert({ name: 'change-stream', consumed_sequence: 0 });

    await knex.schema.createTable('audit_supply_records', (t) => {
      binaryKeys(knex, t);
      // The change stream position: one record per event, so a batch stored twice fails instead of doubling.
      t.bigInteger('sequence').primary('audit_supply_records_pk');
      t.string('event_id', 64).notNullable();
      t.string('action_id', 64).notNullable();
      t.string('parent_action_id', 64).notNullable();
      t.string('related_action_id', 64).notNullable();
      t.string('request_id', 128).notNullable();
      t.string('purpose', 32).notNullable();
      t.string('audit_type', 8).notNullable();
      t.string('actor', 128).notNullable();
      t.string('item_id', 64).notNullable();
      t.string('unit_of_measure', 16).notNullable();
      t.string('product_class', 32).notNullable();
      t.string('node_id', 64).notNullable();
      t.string('segment_type', 32).notNullable();
      t.string('segment', 64).notNullable();
      t.string('supply_type', 16).notNullable();
      t.bigInteger('eta_ms').nullable();
      // A hash of the supply position (every key column above), for the stock history's per-position reads.
      t.string('position_key', 40).notNullable();
      t.string('transaction_type', 8).notNullable();
      t.bigInteger('quantity').notNullable();
      t.bigInteger('quantity_before').notNullable();
      t.bigInteger('quantity_after').notNullable();
      t.string('outcome', 24).notNullable();
      t.bigInteger('source_ms').notNullable();
      t.bigInteger('occur_ms').notNullable();
      t.bigInteger('commit_ms').notNullable();
      t.bigInteger('receive_ms').notNullable();
      t.string('reason', 255).notNullable();
      // The allocation behind the move, as the change stream announced it (encoded SupplyAllocationRecord).
      t.binary('allocation').nullable();
      t.index(['item_id', 'node_id', 'sequence'], 'audit_supply_records_item_node_ix');
      t.index(['node_id', 'sequence'], 'audit_supply_records_node_ix');
      t.index(['action_id', 'sequence'], 'audit_supply_records_action_ix');
      t.index(['parent_action_id', 'sequence'], 'audit_supply_records_parent_ix');
      t.index(['related_action_id', 'sequence'], 'audit_supply_records_related_ix');
      t.index(['request_id', 'sequence'], 'audit_supply_records_request_ix');
      t.index(['position_key', 'sequence'], 'audit_supply_records_position_ix');
    });
  },
  async down(knex) {
    await knex.schema.dropTable('audit_supply_records');
    await knex.schema.dropTable('audit_consumer');
  },
};

const createCycleCounts: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('audit_count_tasks', (t) => {
      binaryKeys(knex, t);
      t.string('task_id', 64).primary('audit_count_tasks_pk');
      // The CreateCountTask request that made it, and the request as sent (a reused id with other fields is refused).
      t.string('request_id', 128).notNullable().unique('audit_count_tasks_request_ux');
      t.text('request_json').notNullable();
      t.string('node_id', 64).notNullable();
      t.boolean('blind').notNullable();
      t.integer('tolerance_bp').notNullable();
      t.string('state', 16).notNullable();
      t.bigInteger('create_ms').notNullable();
      // Set by the first approval, before it posts the adjustment; approve_ms once it is posted.
      t.string('approve_request_id', 128).nullable();
      t.string('approver', 128).notNullable().defaultTo('');
      t.bigInteger('approve_ms').nullable();
      t.string('adjustment_request_id', 128).notNullable().defaultTo('');
      t.index(['node_id', 'state'], 'audit_count_tasks_node_ix');
    });
    await knex.schema.createTable('audit_count_lines', (t) => {
      binaryKeys(knex, t);
      t.string('task_id', 64).notNullable();
      t.integer('line_no').notNullable();
      t.primary(['task_id', 'line_no'], 'audit_count_lines_pk');
      t.string('item_id', 64).notNullable();
      t.string('unit_of_measure', 16).notNullable();
      t.string('product_class', 32).notNullable();
      t.string('abc_class', 1).notNullable();
      t.integer('tolerance_bp').notNullable();
      t.string('state', 16).notNullable();
      t.integer('counts').notNullable();
      t.bigInteger('counted_quantity').nullable();
      t.bigInteger('count_ms').nullable();
      t.string('counter', 128).notNullable();
      t.bigInteger('system_quantity').nullable();
      t.bigInteger('first_counted_quantity').nullable();
      t.bigInteger('first_system_quantity').nullable();
      t.index(['count_ms'], 'audit_count_lines_count_ix');
    });
    // One row per RecordCount request id: a retry gets the line as that count left it.
    await knex.schema.createTable('audit_count_requests', (t) => {
      binaryKeys(knex, t);
      t.string('request_id', 128).primary('audit_count_requests_pk');
      t.text('request_json').notNullable();
      t.text('response_json').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('audit_count_requests');
    await knex.schema.dropTable('audit_count_lines');
    await knex.schema.dropTable('audit_count_tasks');
  },
};

const createComplianceDeviations: Knex.Migration = {
  async up(knex) {
    // The participants of plans found deviating, each since when (see compliance_service.proto).
    await knex.schema.createTable('audit_compliance_deviations', (t) => {
      binaryKeys(knex, t);
      // A hash of the columns below but since_ms.
      t.string('deviation_key', 40).primary('audit_compliance_deviations_pk');
      t.string('plan_segment_type', 32).notNullable();
      t.string('item_id', 64).notNullable();
      t.string('unit_of_measure', 16).notNullable();
      t.string('product_class', 32).notNullable();
      t.string('node_id', 64).notNullable();
      t.string('segment_type', 32).notNullable();
      t.string('segment', 64).notNullable();
      t.string('supply_type', 16).notNullable();
      t.bigInteger('since_ms').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('audit_compliance_deviations');
  },
};

const createAuditLoans: Knex.Migration = {
  async up(knex) {
    // Each segment position's last known loan from the pool, moved with the records of the batch that saw it.
    await knex.schema.createTable('audit_loans', (t) => {
      binaryKeys(knex, t);
      t.string('loan_key', 40).primary('audit_loans_pk');
      t.bigInteger('borrowed').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('audit_loans');
  },
};

const migrations: Record<string, Knex.Migration> = {
  '20261130100000_create_audit_records': createAuditRecords,
  '20261130100100_create_cycle_counts': createCycleCounts,
  '20261130100200_create_compliance_deviations': createComplianceDeviations,
  '20261130100300_create_audit_loans': createAuditLoans,
};

export const auditMigrations = {
  tableName: 'audit_knex_migrations',
  migrationSource: {
    getMigrations: async () => Object.keys(migrations),
    getMigrationName: (name: string) => name,
    getMigration: async (name: string) => migrations[name] as Knex.Migration,
  } satisfies Knex.MigrationSource<string>,
};
