import type { Knex } from 'knex';
import type { ItemKey, SafetyStockRule } from '@inventory/domain';
import { itemColumns, safetyStockRow, safetyStockRuleOf, type SafetyStockRow } from '../tables/safety-stock';

/** Creates or replaces one rule. The primary key serialises concurrent writers of the same rule. */
export async function upsertSafetyStock({
  trx,
  rule,
  nowMs,
}: {
  trx: Knex.Transaction;
  rule: SafetyStockRule;
  nowMs: number;
}): Promise<void> {
  await trx('safety_stock')
    .insert(safetyStockRow(rule, nowMs))
    .onConflict(['item_id', 'unit_of_measure', 'product_class', 'node_id'])
    .merge(['quantity', 'updated_ms']);
}

/** Removes one rule; returns whether it existed. */
export async function deleteSafetyStock({
  trx,
  item,
  nodeId,
}: {
  trx: Knex.Transaction;
  item: ItemKey;
  nodeId: string;
}): Promise<boolean> {
  const deleted = await trx('safety_stock')
    .where({ ...itemColumns(item), node_id: nodeId })
    .delete();
  return deleted > 0;
}

/** The item-level rule and the rules at `nodeIds`, whichever exist. */
export async function findSafetyStock({
  db,
  item,
  nodeIds,
}: {
  db: Knex;
  item: ItemKey;
  nodeIds: readonly string[];
}): Promise<SafetyStockRule[]> {
  const rows: SafetyStockRow[] = await db('safety_stock')
    .where(itemColumns(item))
    .whereIn('node_id', ['', ...nodeIds]);
  return rows.map(safetyStockRuleOf);
}
