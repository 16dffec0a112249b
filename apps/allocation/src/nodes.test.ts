import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { describeEachDatabase } from '@inventory/store/testing';
import { grpcError, rowCounts, startTestService, type TestService } from './testing/harness';

const node = (nodeId: string, nodeType = pb.NodeType.NODE_TYPE_STORE): pb.Node => ({
  nodeId,
  nodeType,
  description: '',
  createTime: undefined,
});
const item = { itemId: 'SKU-S', unitOfMeasure: '', productClass: '' };

describeEachDatabase('nodes, distribution groups and safety stock', (dialect) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(dialect);
  });
  afterAll(async () => t.stop());

  it('creates a node, returns it on a retry, and refuses the id for another request', async () => {
    const first = await t.clients.nodes.createNode({ requestId: 'c-1', node: node('STORE_1') });
    expect(first.node).toMatchObject({ nodeId: 'STORE_1', nodeType: pb.NodeType.NODE_TYPE_STORE });
    expect(await t.clients.nodes.createNode({ requestId: 'c-1', node: node('STORE_1') })).toEqual(first);
    const err = await grpcError(t.clients.nodes.createNode({ requestId: 'c-2', node: node('STORE_1') }));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(errorDetails(err).errorInfo).toMatchObject({ reason: 'NODE_ALREADY_EXISTS', metadata: { id: 'STORE_1' } });
    expect((await t.clients.nodes.getNode({ nodeId: 'STORE_1' })).node).toEqual(first.node);
  });

  it('refuses bad nodes and names the field', async () => {
    const before = await rowCounts(t.database);
    for (const [bad, field] of [
      [node('has space'), 'node.node_id'],
      [node('X', pb.NodeType.NODE_TYPE_UNSPECIFIED), 'node.node_type'],
      [node('X', 99 as pb.NodeType), 'node.node_type'],
      [node('x'.repeat(65)), 'node.node_id'],
    ] as const) {
      const err = await grpcError(t.clients.nodes.createNode({ requestId: `bad-${field}-${bad.nodeId}`, node: bad }));
      expect([err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([status.INVALID_ARGUMENT, field]);
    }
    expect(await rowCounts(t.database)).toEqual(before);
    expect((await grpcError(t.clients.nodes.getNode({ nodeId: 'MISSING' }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(t.clients.nodes.getNode({ nodeId: '' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(t.clients.nodes.getDistributionGroup({ distributionGroupId: '' }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  it('lists nodes page by page with opaque tokens', async () => {
    for (let i = 0; i < 5; i++) await t.clients.nodes.createNode({ requestId: `list-${i}`, node: node(`LIST_${i}`) });
    const seen: string[] = [];
    let pageToken = '';
    do {
      const res = await t.clients.nodes.listNodes({ pageSize: 2, pageToken });
      expect(res.nodes.length).toBeLessThanOrEqual(2);
      seen.push(...res.nodes.map((n) => n.nodeId));
      pageToken = res.nextPageToken;
    } while (pageToken);
    expect(seen.filter((id) => id.startsWith('LIST_'))).toEqual(['LIST_0', 'LIST_1', 'LIST_2', 'LIST_3', 'LIST_4']);
    const err = await grpcError(t.clients.nodes.listNodes({ pageSize: 2, pageToken: 'garbage' }));
    expect([err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([status.INVALID_ARGUMENT, 'page_token']);
    const negative = await grpcError(t.clients.nodes.listNodes({ pageSize: -1, pageToken: '' }));
    expect([negative.code, errorDetails(negative).errorInfo?.metadata['field']]).toEqual([
      status.INVALID_ARGUMENT,
      'page_size',
    ]);
  });

  it('creates a distribution group in priority order and checks its nodes', async () => {
    const res = await t.clients.nodes.createDistributionGroup({
      requestId: 'dg-1',
      distributionGroup: {
        distributionGroupId: 'WEST',
        nodeIds: ['LIST_3', 'LIST_1'],
        description: '',
        createTime: undefined,
      },
    });
    expect(res.distributionGroup?.nodeIds).toEqual(['LIST_3', 'LIST_1']);
    expect(
      (await t.clients.nodes.getDistributionGroup({ distributionGroupId: 'WEST' })).distributionGroup?.nodeIds,
    ).toEqual(['LIST_3', 'LIST_1']);
    expect(
      (await t.clients.nodes.listDistributionGroups({ pageSize: 0, pageToken: '' })).distributionGroups.map(
        (g) => g.distributionGroupId,
      ),
    ).toEqual(['WEST']);

    const unknown = await grpcError(
      t.clients.nodes.createDistributionGroup({
        requestId: 'dg-2',
        distributionGroup: {
          distributionGroupId: 'X',
          nodeIds: ['LIST_1', 'GHOST'],
          description: '',
          createTime: undefined,
        },
      }),
    );
    expect(errorDetails(unknown).errorInfo).toMatchObject({
      reason: 'NODE_NOT_FOUND',
      metadata: { node_ids: 'GHOST' },
    });
    const twice = await grpcError(
      t.clients.nodes.createDistributionGroup({
        requestId: 'dg-3',
        distributionGroup: {
          distributionGroupId: 'X',
          nodeIds: ['LIST_1', 'LIST_1'],
          description: '',
          createTime: undefined,
        },
      }),
    );
    expect(errorDetails(twice).errorInfo?.metadata['field']).toBe('distribution_group.node_ids[1]');
    const taken = await grpcError(
      t.clients.nodes.createDistributionGroup({
        requestId: 'dg-4',
        distributionGroup: { distributionGroupId: 'WEST', nodeIds: ['LIST_1'], description: '', createTime: undefined },
      }),
    );
    expect(taken.code).toBe(status.ALREADY_EXISTS);
  });

  it('resolves safety stock from the node rule, then the item rule, then none', async () => {
    const get = async () => (await t.clients.safetyStock.getSafetyStock({ item, nodeId: 'STORE_1' })).safetyStock;
    expect(await get()).toMatchObject({ quantity: 0, level: pb.SafetyStockLevel.SAFETY_STOCK_LEVEL_NONE });
    await t.clients.safetyStock.setSafetyStock({
      requestId: 'ss-1',
      safetyStock: { item, nodeId: '', quantity: 7, level: 0 },
    });
    expect(await get()).toMatchObject({ quantity: 7, level: pb.SafetyStockLevel.SAFETY_STOCK_LEVEL_ITEM });
    await t.clients.safetyStock.setSafetyStock({
      requestId: 'ss-2',
      safetyStock: { item, nodeId: 'STORE_1', quantity: 2, level: 0 },
    });
    expect(await get()).toMatchObject({ quantity: 2, level: pb.SafetyStockLevel.SAFETY_STOCK_LEVEL_ITEM_NODE });
    await t.clients.safetyStock.deleteSafetyStock({ requestId: 'ss-3', item, nodeId: 'STORE_1' });
    expect(await get()).toMatchObject({ quantity: 7, level: pb.SafetyStockLevel.SAFETY_STOCK_LEVEL_ITEM });

    const missing = await grpcError(
      t.clients.safetyStock.deleteSafetyStock({ requestId: 'ss-4', item, nodeId: 'STORE_1' }),
    );
    expect(errorDetails(missing).errorInfo?.reason).toBe('SAFETY_STOCK_NOT_FOUND');
    const unknownNode = await grpcError(
      t.clients.safetyStock.setSafetyStock({
        requestId: 'ss-5',
        safetyStock: { item, nodeId: 'GHOST', quantity: 1, level: 0 },
      }),
    );
    expect(unknownNode.code).toBe(status.NOT_FOUND);
    const negative = await grpcError(
      t.clients.safetyStock.setSafetyStock({
        requestId: 'ss-6',
        safetyStock: { item, nodeId: '', quantity: -1, level: 0 },
      }),
    );
    expect(errorDetails(negative).errorInfo?.metadata['field']).toBe('safety_stock.quantity');
  });
});
