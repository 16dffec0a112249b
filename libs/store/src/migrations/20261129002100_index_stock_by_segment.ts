import type { Knex } from 'knex';

/**
 * Finds the stock recorded in one segment without reading every row: supply, demand and stock positions by
 * segment (retiring a segment checks that nothing remains in it; ListSupply and ListDemand filter by it).
 * The unique keys lead with the item, so they cannot serve these lookups.
 */
const INDEXES = [
  { table: 'supply', name: 'supply_segment_ix' },
  { table: 'demand', name: 'demand_segment_ix' },
  { table: 'stock_positions', name: 'stock_positions_segment_ix' },
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const { table, name } of INDEXES) {
    await knex.schema.alterTable(table, (t) => t.index(['segment_type', 'segment'], name));
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const { table, name } of INDEXES) {
    await knex.schema.alterTable(table, (t) => t.dropIndex(['segment_type', 'segment'], name));
  }
}
