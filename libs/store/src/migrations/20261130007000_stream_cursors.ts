import type { Knex } from 'knex';

/**
 * Readers' cursors (outbox_cursors) now hold stream positions, which are gap-free, instead of outbox row
 * ids with the holes below them: the cursors kept so far count something else, so they are forgotten and
 * each reader starts again at the stream's end. The `gaps` column is no longer used (always "[]").
 */
export async function up(knex: Knex): Promise<void> {
  await knex('outbox_cursors').delete();
}

/** Cursors by stream position read as row ids would skip or repeat events: they are forgotten again. */
export async function down(knex: Knex): Promise<void> {
  await knex('outbox_cursors').delete();
}
