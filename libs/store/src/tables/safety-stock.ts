import type { ItemKey, SafetyStockRule } from '@inventory/domain';
import { integerOf, type IntegerColumn } from './columns';

/** The columns that name an item. */
export interface ItemColumns {
  readonly item_id: string;
  readonly unit_of_measure: string;
  readonly product_class: string;
}

export function itemColumns(item: ItemKey): ItemColumns {
  return { item_id: item.itemId, unit_of_measure: item.unitOfMeasure, product_class: item.productClass };
}

/** A row of `safety_stock`: one rule per item and node, or per item (node empty). */
export interface SafetyStockRow extends ItemColumns {
  /** Empty for the item-level rule that applies at every node. */
  readonly node_id: string;
  readonly quantity: IntegerColumn;
  readonly updated_ms: IntegerColumn;
}

export function safetyStockRow(rule: SafetyStockRule, nowMs: number): SafetyStockRow {
  return { ...itemColumns(rule.item), node_id: rule.nodeId, quantity: rule.quantity, updated_ms: nowMs };
}

export function safetyStockRuleOf(row: SafetyStockRow): SafetyStockRule {
  return {
    item: { itemId: row.item_id, unitOfMeasure: row.unit_of_measure, productClass: row.product_class },
    nodeId: row.node_id,
    quantity: integerOf(row.quantity, 'safety_stock.quantity'),
  };
}
