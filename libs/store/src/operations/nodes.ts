import type { Knex } from 'knex';
import type { DistributionGroup, Node, NodeType } from '@inventory/domain';

interface NodeRow {
  node_id: string;
  node_type: string;
  description: string;
  created_ms: number;
}

const toNode = (row: NodeRow): Node => ({
  nodeId: row.node_id,
  nodeType: row.node_type as NodeType,
  description: row.description,
  createMs: Number(row.created_ms),
});

export async function insertNode({ trx, node }: { trx: Knex.Transaction; node: Node }): Promise<void> {
  await trx<NodeRow>('nodes').insert({
    node_id: node.nodeId,
    node_type: node.nodeType,
    description: node.description,
    created_ms: node.createMs,
  });
}

export async function getNode({ db, nodeId }: { db: Knex; nodeId: string }): Promise<Node | undefined> {
  const row = await db<NodeRow>('nodes').where({ node_id: nodeId }).first();
  return row && toNode(row);
}

/** Nodes after `afterNodeId` in id order (keyset pagination). */
export async function listNodes({ db, afterNodeId, limit }: { db: Knex; afterNodeId: string; limit: number }): Promise<Node[]> {
  const rows = await db<NodeRow>('nodes').where('node_id', '>', afterNodeId).orderBy('node_id').limit(limit);
  return rows.map(toNode);
}

/**
 * Which of `nodeIds` do not exist. Takes no lock: nodes are never deleted, so a node seen here stays;
 * the foreign keys back this up.
 */
export async function findMissingNodes({ db, nodeIds }: { db: Knex; nodeIds: readonly string[] }): Promise<string[]> {
  const unique = [...new Set(nodeIds)];
  const found = new Set<string>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db<NodeRow>('nodes').select('node_id').whereIn('node_id', unique.slice(i, i + 500));
    rows.forEach((r) => found.add(r.node_id));
  }
  return unique.filter((id) => !found.has(id)).sort();
}

interface GroupRow {
  distribution_group_id: string;
  description: string;
  created_ms: number;
}

export async function insertDistributionGroup({ trx, group }: { trx: Knex.Transaction; group: DistributionGroup }): Promise<void> {
  await trx<GroupRow>('distribution_groups').insert({
    distribution_group_id: group.distributionGroupId,
    description: group.description,
    created_ms: group.createMs,
  });
  await trx('distribution_group_nodes').insert(
    group.nodeIds.map((nodeId, priority) => ({ distribution_group_id: group.distributionGroupId, priority, node_id: nodeId })),
  );
}

export async function getDistributionGroup({ db, id }: { db: Knex; id: string }): Promise<DistributionGroup | undefined> {
  const [group] = await listDistributionGroupsWhere(db, (q) => q.where({ distribution_group_id: id }));
  return group;
}

/** Groups after `afterId` in id order (keyset pagination). */
export async function listDistributionGroups({ db, afterId, limit }: { db: Knex; afterId: string; limit: number }): Promise<DistributionGroup[]> {
  return listDistributionGroupsWhere(db, (q) => q.where('distribution_group_id', '>', afterId).orderBy('distribution_group_id').limit(limit));
}

async function listDistributionGroupsWhere(db: Knex, filter: (q: Knex.QueryBuilder<GroupRow>) => Knex.QueryBuilder<GroupRow>): Promise<DistributionGroup[]> {
  const groups: GroupRow[] = await filter(db<GroupRow>('distribution_groups'));
  if (groups.length === 0) return [];
  const members = await db('distribution_group_nodes')
    .whereIn('distribution_group_id', groups.map((g) => g.distribution_group_id))
    .orderBy(['distribution_group_id', 'priority']);
  return groups.map((g) => ({
    distributionGroupId: g.distribution_group_id,
    description: g.description,
    createMs: Number(g.created_ms),
    nodeIds: members.filter((m) => m.distribution_group_id === g.distribution_group_id).map((m) => m.node_id as string),
  }));
}
