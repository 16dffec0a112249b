import { NODE_TYPES, type DistributionGroup, type Node } from '@inventory/domain';
import { codeOf, integerOf, type IntegerColumn } from './columns';

/** A row of `nodes`. */
export interface NodeRow {
  readonly node_id: string;
  readonly node_type: string;
  readonly description: string;
  readonly created_ms: IntegerColumn;
}

export function nodeRow(node: Node): NodeRow {
  return { node_id: node.nodeId, node_type: node.nodeType, description: node.description, created_ms: node.createMs };
}

export function nodeOf(row: NodeRow): Node {
  return {
    nodeId: row.node_id,
    nodeType: codeOf(NODE_TYPES, row.node_type, 'nodes.node_type'),
    description: row.description,
    createMs: integerOf(row.created_ms, 'nodes.created_ms'),
  };
}

/** A row of `distribution_groups`; its nodes are rows of `distribution_group_nodes`. */
export interface DistributionGroupRow {
  readonly distribution_group_id: string;
  readonly description: string;
  readonly created_ms: IntegerColumn;
}

/** A row of `distribution_group_nodes`: one node of a group, at its sourcing priority (0 first). */
export interface DistributionGroupNodeRow {
  readonly distribution_group_id: string;
  readonly priority: number;
  readonly node_id: string;
}

export function distributionGroupRows(group: DistributionGroup): {
  group: DistributionGroupRow;
  nodes: DistributionGroupNodeRow[];
} {
  return {
    group: {
      distribution_group_id: group.distributionGroupId,
      description: group.description,
      created_ms: group.createMs,
    },
    nodes: group.nodeIds.map((nodeId, priority) => ({
      distribution_group_id: group.distributionGroupId,
      priority,
      node_id: nodeId,
    })),
  };
}

/** A group from its row and its node rows, which must be in priority order. */
export function distributionGroupOf(
  row: DistributionGroupRow,
  nodes: readonly DistributionGroupNodeRow[],
): DistributionGroup {
  return {
    distributionGroupId: row.distribution_group_id,
    description: row.description,
    createMs: integerOf(row.created_ms, 'distribution_groups.created_ms'),
    nodeIds: nodes.map((n) => n.node_id),
  };
}
