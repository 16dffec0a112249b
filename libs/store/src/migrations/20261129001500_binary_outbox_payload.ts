import type { Knex } from 'knex';

/**
 * The outbox holds encoded `ChangeEvent` envelopes (binary protobuf) instead of JSON. MySQL's text columns
 * refuse bytes that are not valid UTF-8, so the payload becomes a MEDIUMBLOB there; the JSON rows written
 * before keep their bytes. SQLite stores bytes in any column (its column types are only affinities), so
 * only MySQL changes.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2') return;
  await knex.raw('ALTER TABLE outbox MODIFY payload MEDIUMBLOB NOT NULL');
}

/**
 * Envelopes have no text form, so the rows written since `up` go first: every row whose payload is not a
 * JSON object of the earlier format.
 */
export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2') return;
  await knex('outbox').whereRaw("HEX(SUBSTRING(payload, 1, 1)) <> '7B'").delete();
  await knex.raw('ALTER TABLE outbox MODIFY payload MEDIUMTEXT NOT NULL');
}
