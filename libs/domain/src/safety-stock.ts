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

/** A rule with a node applies at that node only; one without applies to the item everywhere. */
export function levelOf(rule: SafetyStockRule): SafetyStockLevel {
  return rule.nodeId === '' ? 'ITEM' : 'ITEM_NODE';
}

/** The rule for the item at the node wins; otherwise the item rule; otherwise nothing is withheld. */
export function resolveSafetyStock(rules: readonly SafetyStockRule[], nodeId: string): EffectiveSafetyStock {
  const rule = rules.find((r) => r.nodeId === nodeId && nodeId !== '') ?? rules.find((r) => r.nodeId === '');
  return rule ? { quantity: rule.quantity, level: levelOf(rule) } : { quantity: 0, level: 'NONE' };
}
