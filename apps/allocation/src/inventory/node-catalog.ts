import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  DistributionGroupNotFoundError,
  NodeNotFoundError,
  parseCreateDistributionGroup,
  parseCreateNode,
  parsePageSize,
  requireId,
  type CreateDistributionGroupCommand,
  type CreateNodeInput,
  type DistributionGroup,
  type Node,
  type Clock,
} from '@inventory/domain';
import {
  appendOutbox,
  findMissingNodes,
  getDistributionGroup,
  getNode,
  insertDistributionGroup,
  insertNode,
  listDistributionGroups,
  listNodes,
  type Database,
  mutate,
  decodePageToken,
  page,
} from '@inventory/store';
import { distributionGroupCreatedEvent, nodeCreatedEvent } from '../events/change-events';

/** Ship nodes and distribution groups. */
export class NodeCatalog {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async createNode(input: CreateNodeInput): Promise<Node> {
    const cmd = parseCreateNode(input);
    return mutate(
      { db: this.db, clock: this.clock, method: 'CreateNode', requestId: cmd.requestId, request: cmd },
      async (trx, nowMs) => {
        if (await getNode({ db: trx, nodeId: cmd.nodeId })) throw new AlreadyExistsError('node', cmd.nodeId);
        const node: Node = {
          nodeId: cmd.nodeId,
          nodeType: cmd.nodeType,
          description: cmd.description,
          createMs: nowMs,
        };
        await insertNode({ trx, node });
        await appendOutbox({
          trx,
          events: [nodeCreatedEvent({ actionId: randomUUID(), requestId: cmd.requestId, occurMs: nowMs }, node)],
        });
        return node;
      },
    );
  }

  async getNode(nodeId: string): Promise<Node> {
    requireId('node_id', nodeId);
    const node = await getNode({ db: this.db.knex, nodeId });
    if (!node) throw new NodeNotFoundError([nodeId]);
    return node;
  }

  async listNodes(pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const after = decodePageToken(pageToken, 'nodes', '');
    const rows = await listNodes({ db: this.db.knex, afterNodeId: after, limit: size + 1 });
    return page(rows, size, (n) => n.nodeId, 'nodes');
  }

  async createDistributionGroup(input: CreateDistributionGroupCommand): Promise<DistributionGroup> {
    const cmd = parseCreateDistributionGroup(input);
    const missing = await findMissingNodes({ db: this.db.knex, nodeIds: cmd.nodeIds });
    if (missing.length > 0) throw new NodeNotFoundError(missing);
    const mutation = {
      db: this.db,
      clock: this.clock,
      method: 'CreateDistributionGroup',
      requestId: cmd.requestId,
      request: cmd,
    };
    return mutate(mutation, async (trx, nowMs) => {
      if (await getDistributionGroup({ db: trx, id: cmd.distributionGroupId })) {
        throw new AlreadyExistsError('distribution group', cmd.distributionGroupId);
      }
      const group: DistributionGroup = {
        distributionGroupId: cmd.distributionGroupId,
        nodeIds: cmd.nodeIds,
        description: cmd.description,
        createMs: nowMs,
      };
      await insertDistributionGroup({ trx, group });
      await appendOutbox({
        trx,
        events: [
          distributionGroupCreatedEvent({ actionId: randomUUID(), requestId: cmd.requestId, occurMs: nowMs }, group),
        ],
      });
      return group;
    });
  }

  async getDistributionGroup(id: string): Promise<DistributionGroup> {
    requireId('distribution_group_id', id);
    const group = await getDistributionGroup({ db: this.db.knex, id });
    if (!group) throw new DistributionGroupNotFoundError(id);
    return group;
  }

  async listDistributionGroups(pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const after = decodePageToken(pageToken, 'distribution_groups', '');
    const rows = await listDistributionGroups({ db: this.db.knex, afterId: after, limit: size + 1 });
    return page(rows, size, (g) => g.distributionGroupId, 'distribution_groups');
  }

  /** Throws NodeNotFoundError naming every node of `nodeIds` that does not exist. */
  async requireNodes(nodeIds: readonly string[]): Promise<void> {
    const missing = await findMissingNodes({ db: this.db.knex, nodeIds });
    if (missing.length > 0) throw new NodeNotFoundError(missing);
  }
}
