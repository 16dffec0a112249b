import type { Knex } from 'knex';
import { binaryKeys } from './conventions';

/**
 * Stream positions for the outbox. Row ids are not commit order on MySQL, so a sequencer stamps each
 * committed row with the next gap-free `stream_sequence` and the time it saw the commit (`commit_ms`).
 * Rows written before this migration have none yet and are stamped like new ones. The last position given
 * is kept in `change_stream_state`, apart from the rows, so that trimming every row cannot make the
 * sequencer reuse positions.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.bigInteger('stream_sequence').nullable();
    t.bigInteger('commit_ms').nullable();
    // Serves the stream's reads by position and, since unstamped rows are NULL here, the sequencer's search
    // for them; unique so that no position is ever given twice.
    t.unique(['stream_sequence'], { indexName: 'outbox_stream_sequence_ux' });
  });
  await knex.schema.createTable('change_stream_state', (t) => {
    binaryKeys(knex, t);
    t.string('name', 32).primary('change_stream_state_pk');
    t.bigInteger('last_sequence').notNullable();
  });
  await knex('change_stream_state').insert({ name: 'sequencer', last_sequence: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('change_stream_state');
  await knex.schema.alterTable('outbox', (t) => {
    t.dropUnique(['stream_sequence'], 'outbox_stream_sequence_ux');
    t.dropColumn('commit_ms');
    t.dropColumn('stream_sequence');
  });
}
