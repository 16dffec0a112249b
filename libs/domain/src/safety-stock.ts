import type { ItemKey } from './keys';

export type SafetyStockLevel = 'NONE' | 'ITEM' | 'ITEM_NODE';

/** A stored rule; `nodeId` is empty for the item-level rule. */
export interface SafetyStockRule {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly quantity: number;
}

export interface EffectiveSafetyStock {
  readonly quantity: number;
  readonly level: SafetyStockLevel;
}

/** The rule for the item at the node wins; otherwise the item rule; otherwise nothing is withheld. */
export function resolveSafetyStock(rules: readonly SafetyStockRule[], nodeId: string): EffectiveSafetyStock {
  const atNode = rules.find((r) => r.nodeId === nodeId && nodeId !== '');
  if (atNode) return { quantity: atNode.quantity, level: 'ITEM_NODE' };
  const forItem = rules.find((r) => r.nodeId === '');
  if (forItem) return { quantity: forItem.quantity, level: 'ITEM' };
  return { quantity: 0, level: 'NONE' };
}
