import type { Knex } from 'knex';
import type { ItemKey, SafetyStockRule } from '@inventory/domain';

const itemColumns = (item: ItemKey) => ({
  item_id: item.itemId,
  unit_of_measure: item.unitOfMeasure,
  product_class: item.productClass,
});

/** Creates or replaces one rule. The primary key serialises concurrent writers of the same rule. */
export async function upsertSafetyStock({ trx, rule, nowMs }: { trx: Knex.Transaction; rule: SafetyStockRule; nowMs: number }): Promise<void> {
  await trx('safety_stock')
    .insert({ ...itemColumns(rule.item), node_id: rule.nodeId, quantity: rule.quantity, updated_ms: nowMs })
    .onConflict(['item_id', 'unit_of_measure', 'product_class', 'node_id'])
    .merge(['quantity', 'updated_ms']);
}

/** Removes one rule; returns whether it existed. */
export async function deleteSafetyStock({ trx, item, nodeId }: { trx: Knex.Transaction; item: ItemKey; nodeId: string }): Promise<boolean> {
  const deleted = await trx('safety_stock').where({ ...itemColumns(item), node_id: nodeId }).delete();
  return deleted > 0;
}

/** The item-level rule and the rules at `nodeIds`, whichever exist. */
export async function findSafetyStock({ db, item, nodeIds }: { db: Knex; item: ItemKey; nodeIds: readonly string[] }): Promise<SafetyStockRule[]> {
  const rows = await db('safety_stock')
    .where(itemColumns(item))
    .whereIn('node_id', ['', ...nodeIds]);
  return rows.map((r) => ({ item, nodeId: r.node_id as string, quantity: Number(r.quantity) }));
}

