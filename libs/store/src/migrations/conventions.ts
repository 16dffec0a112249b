import type { Knex } from 'knex';

/**
 * Ids compare byte for byte on every database, as they do on SQLite: with MySQL's default case-insensitive
 * collation, "sku-1" and "SKU-1" would be one item.
 */
export function binaryKeys(knex: Knex, t: Knex.CreateTableBuilder): void {
  if (knex.client.config.client !== 'mysql2') return;
  t.charset('utf8mb4');
  t.collate('utf8mb4_bin');
}
