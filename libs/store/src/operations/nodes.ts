import type { Knex } from 'knex';
import type { DistributionGroup, Node } from '@inventory/domain';
import {
  distributionGroupOf,
  distributionGroupRows,
  nodeOf,
  nodeRow,
  type DistributionGroupNodeRow,
  type DistributionGroupRow,
  type NodeRow,
} from '../tables/nodes';
import { chunks } from './chunks';

export async function insertNode({ trx, node }: { trx: Knex.Transaction; node: Node }): Promise<void> {
  await trx('nodes').insert(nodeRow(node));
}

export async function getNode({ db, nodeId }: { db: Knex; nodeId: string }): Promise<Node | undefined> {
  const row: NodeRow | undefined = await db('nodes').where({ node_id: nodeId }).first();
  return row && nodeOf(row);
}

/** Nodes after `afterNodeId` in id order (keyset pagination). */
export async function listNodes({
  db,
  afterNodeId,
  limit,
}: {
  db: Knex;
  afterNodeId: string;
  limit: number;
}): Promise<Node[]> {
  const rows: NodeRow[] = await db('nodes').where('node_id', '>', afterNodeId).orderBy('node_id').limit(limit);
  return rows.map(nodeOf);
}

/**
 * Which of `nodeIds` do not exist. Takes no lock: nodes are never deleted, so a node seen here stays;
 * the foreign keys back this up.
 */
export async function findMissingNodes({ db, nodeIds }: { db: Knex; nodeIds: readonly string[] }): Promise<string[]> {
  const unique = [...new Set(nodeIds)];
  const found = new Set<string>();
  for (const chunk of chunks(unique, 500)) {
    const rows: Array<Pick<NodeRow, 'node_id'>> = await db('nodes').select('node_id').whereIn('node_id', chunk);
    rows.forEach((r) => found.add(r.node_id));
  }
  return unique.filter((id) => !found.has(id)).sort();
}

export async function insertDistributionGroup({
  trx,
  group,
}: {
  trx: Knex.Transaction;
  group: DistributionGroup;
}): Promise<void> {
  const rows = distributionGroupRows(group);
  await trx('distribution_groups').insert(rows.group);
  await trx('distribution_group_nodes').insert(rows.nodes);
}

export async function getDistributionGroup({
  db,
  id,
}: {
  db: Knex;
  id: string;
}): Promise<DistributionGroup | undefined> {
  const [group] = await listDistributionGroupsWhere(db, (q) => q.where({ distribution_group_id: id }));
  return group;
}

/** Groups after `afterId` in id order (keyset pagination). */
export async function listDistributionGroups({
  db,
  afterId,
  limit,
}: {
  db: Knex;
  afterId: string;
  limit: number;
}): Promise<DistributionGroup[]> {
  return listDistributionGroupsWhere(db, (q) =>
    q.where('distribution_group_id', '>', afterId).orderBy('distribution_group_id').limit(limit),
  );
}

async function listDistributionGroupsWhere(
  db: Knex,
  filter: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<DistributionGroup[]> {
  const groups: DistributionGroupRow[] = await filter(db('distribution_groups'));
  if (groups.length === 0) return [];
  const members: DistributionGroupNodeRow[] = await db('distribution_group_nodes')
    .whereIn(
      'distribution_group_id',
      groups.map((g) => g.distribution_group_id),
    )
    .orderBy(['distribution_group_id', 'priority']);
  return groups.map((g) =>
    distributionGroupOf(
      g,
      members.filter((m) => m.distribution_group_id === g.distribution_group_id),
    ),
  );
}
