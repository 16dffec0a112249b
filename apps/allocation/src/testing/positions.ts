import type { Knex } from 'knex';

/**
 * Positions whose running totals differ from the rows they summarise (supply due now, counted demand,
 * HELD holds). Positions are a cache kept by deltas; after any race it must still add up.
 */
export async function positionsDisagreeingWithRows(db: Knex): Promise<unknown[]> {
  const nowMs = Date.now();
  const positions = await db('stock_positions');
  const wrong: unknown[] = [];
  for (const p of positions) {
    const key = { item_id: p.item_id, unit_of_measure: p.unit_of_measure, product_class: p.product_class, node_id: p.node_id, segment_type: p.segment_type, segment: p.segment };
    const supply = await db('supply').where(key).where((q) => q.where({ supply_type: 'ONHAND' }).orWhere((f) => f.whereNot({ supply_type: 'PLAN' }).andWhere('eta_ms', '<=', nowMs))).sum({ n: 'quantity' }).first();
    const demand = await db('demand').where(key).whereNot({ demand_type: 'PLAN' }).sum({ n: 'quantity' }).first();
    const reserved = await db('reservation_holds').where({ position_id: p.position_id, state: 'HELD' }).sum({ n: 'quantity' }).first();
    const expected = { supply: Number(supply?.n ?? 0), demand: Number(demand?.n ?? 0), reserved: Number(reserved?.n ?? 0) };
    const actual = { supply: Number(p.supply), demand: Number(p.demand), reserved: Number(p.reserved) };
    if (JSON.stringify(expected) !== JSON.stringify(actual)) wrong.push({ item: p.item_id, node: p.node_id, expected, actual });
  }
  return wrong;
}
