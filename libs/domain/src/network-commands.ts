import type { ItemKey } from './keys';
import { NODE_TYPES, type NodeType } from './network';
import type { SafetyStockRule } from './safety-stock';
import { MAX_DESCRIPTION_LENGTH, Violations } from './validation';

export interface CreateNodeCommand {
  readonly requestId: string;
  readonly nodeId: string;
  readonly nodeType: NodeType;
  readonly description: string;
}

export interface CreateNodeInput extends Omit<CreateNodeCommand, 'nodeType'> {
  /** `undefined` when missing or unknown. */
  readonly nodeType: NodeType | undefined;
}

export function parseCreateNode(input: CreateNodeInput): CreateNodeCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.id('node.node_id', input.nodeId);
  if (input.nodeType === undefined) v.add('node.node_type', `must be one of ${NODE_TYPES.join(', ')}`);
  v.text('node.description', input.description, MAX_DESCRIPTION_LENGTH);
  v.throwIfAny();
  return { ...input, nodeType: input.nodeType as NodeType };
}

export interface CreateDistributionGroupCommand {
  readonly requestId: string;
  readonly distributionGroupId: string;
  readonly nodeIds: readonly string[];
  readonly description: string;
}

/** Most nodes one distribution group may list. */
export const MAX_GROUP_NODES = 1000;

export function parseCreateDistributionGroup(input: CreateDistributionGroupCommand): CreateDistributionGroupCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.id('distribution_group.distribution_group_id', input.distributionGroupId);
  if (input.nodeIds.length === 0) v.add('distribution_group.node_ids', 'must list at least one node');
  if (input.nodeIds.length > MAX_GROUP_NODES)
    v.add('distribution_group.node_ids', `must list at most ${MAX_GROUP_NODES} nodes`);
  const seen = new Set<string>();
  input.nodeIds.forEach((nodeId, i) => {
    v.id(`distribution_group.node_ids[${i}]`, nodeId);
    if (seen.has(nodeId)) v.add(`distribution_group.node_ids[${i}]`, `lists node ${nodeId} twice`);
    seen.add(nodeId);
  });
  v.text('distribution_group.description', input.description, MAX_DESCRIPTION_LENGTH);
  v.throwIfAny();
  return input;
}

export interface SetSafetyStockCommand {
  readonly requestId: string;
  readonly rule: SafetyStockRule;
}

export interface SetSafetyStockInput {
  readonly requestId: string;
  readonly item: ItemKey | undefined;
  readonly nodeId: string;
  readonly quantity: number;
}

export function parseSetSafetyStock(input: SetSafetyStockInput): SetSafetyStockCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.item('safety_stock.item', input.item);
  if (input.nodeId !== '') v.id('safety_stock.node_id', input.nodeId);
  v.quantity('safety_stock.quantity', input.quantity, 0);
  v.throwIfAny();
  return {
    requestId: input.requestId,
    rule: { item: input.item as ItemKey, nodeId: input.nodeId, quantity: input.quantity },
  };
}

export interface DeleteSafetyStockCommand {
  readonly requestId: string;
  readonly item: ItemKey;
  readonly nodeId: string;
}

export function parseDeleteSafetyStock(input: Omit<SetSafetyStockInput, 'quantity'>): DeleteSafetyStockCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.item('item', input.item);
  if (input.nodeId !== '') v.id('node_id', input.nodeId);
  v.throwIfAny();
  return { requestId: input.requestId, item: input.item as ItemKey, nodeId: input.nodeId };
}
