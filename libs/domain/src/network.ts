export const NODE_TYPES = ['DC', 'WAREHOUSE', 'STORE', 'DROP_SHIP'] as const;

export type NodeType = (typeof NODE_TYPES)[number];

/** A ship node: a place that holds and ships stock. */
export interface Node {
  readonly nodeId: string;
  readonly nodeType: NodeType;
  readonly description: string;
  readonly createMs: number;
}

/** A named set of nodes; the order of `nodeIds` is the sourcing priority. */
export interface DistributionGroup {
  readonly distributionGroupId: string;
  readonly nodeIds: readonly string[];
  readonly description: string;
  readonly createMs: number;
}
