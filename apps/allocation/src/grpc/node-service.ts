import * as pb from '@inventory/contracts';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { NodeCatalog } from '../inventory/node-catalog';
import { fromGroup, fromNode, toNodeType } from './translate';

export function nodeServiceHandlers(catalog: NodeCatalog, logger: Logger): pb.NodeServiceServer {
  return {
    createNode: unary('CreateNode', logger, async (req: pb.CreateNodeRequest) => ({
      node: fromNode(
        await catalog.createNode({
          requestId: req.requestId,
          nodeId: req.node?.nodeId ?? '',
          nodeType: toNodeType(req.node?.nodeType ?? pb.NodeType.NODE_TYPE_UNSPECIFIED),
          description: req.node?.description ?? '',
        }),
      ),
    })),
    getNode: unary('GetNode', logger, async (req: pb.GetNodeRequest) => ({
      node: fromNode(await catalog.getNode(req.nodeId)),
    })),
    listNodes: unary('ListNodes', logger, async (req: pb.ListNodesRequest) => {
      const { items, nextPageToken } = await catalog.listNodes(req.pageSize, req.pageToken);
      return { nodes: items.map(fromNode), nextPageToken };
    }),
    createDistributionGroup: unary(
      'CreateDistributionGroup',
      logger,
      async (req: pb.CreateDistributionGroupRequest) => ({
        distributionGroup: fromGroup(
          await catalog.createDistributionGroup({
            requestId: req.requestId,
            distributionGroupId: req.distributionGroup?.distributionGroupId ?? '',
            nodeIds: req.distributionGroup?.nodeIds ?? [],
            description: req.distributionGroup?.description ?? '',
          }),
        ),
      }),
    ),
    getDistributionGroup: unary('GetDistributionGroup', logger, async (req: pb.GetDistributionGroupRequest) => ({
      distributionGroup: fromGroup(await catalog.getDistributionGroup(req.distributionGroupId)),
    })),
    listDistributionGroups: unary('ListDistributionGroups', logger, async (req: pb.ListDistributionGroupsRequest) => {
      const { items, nextPageToken } = await catalog.listDistributionGroups(req.pageSize, req.pageToken);
      return { distributionGroups: items.map(fromGroup), nextPageToken };
    }),
  };
}
