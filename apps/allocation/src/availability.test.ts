import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { describeEachDatabase } from '@inventory/store/testing';
import { grpcError, startTestService, type TestService } from './testing/harness';

const DAY = 86_400_000;
const item = { itemId: 'SKU-A', unitOfMeasure: '', productClass: '' };
const T = pb.SupplyType;

describeEachDatabase('availability', (dialect) => {
  let t: TestService;
  const now = Date.now();
  const inDays = (d: number) => new Date(now + d * DAY);

  beforeAll(async () => {
    t = await startTestService(dialect);
    const { nodes, supply, safetyStock } = t.clients;
    for (const nodeId of ['DC1', 'DC2', 'STORE1']) {
      await nodes.createNode({
        requestId: `n-${nodeId}`,
        node: { nodeId, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
      });
    }
    await nodes.createDistributionGroup({
      requestId: 'dg-1',
      distributionGroup: {
        distributionGroupId: 'EAST',
        nodeIds: ['DC2', 'DC1'],
        description: 'east coast',
        createTime: undefined,
      },
    });
    const line = (nodeId: string, supplyType: pb.SupplyType, quantity: number, eta?: Date): pb.SupplySyncLine => ({
      key: { item, nodeId, segment: undefined, supplyType, etaTime: eta },
      quantity,
      sourceTime: new Date(now - DAY),
    });
    await supply.syncSupply({
      requestId: 'sync-1',
      lines: [
        line('DC1', T.SUPPLY_TYPE_ONHAND, 100),
        line('DC1', T.SUPPLY_TYPE_INTRANSIT, 20, inDays(2)),
        line('DC1', T.SUPPLY_TYPE_PO_PLACED, 50, inDays(10)),
        line('DC1', T.SUPPLY_TYPE_PLAN, 1000, inDays(1)),
        line('DC2', T.SUPPLY_TYPE_ONHAND, 3),
      ],
    });
    await safetyStock.setSafetyStock({ requestId: 'ss-1', safetyStock: { item, nodeId: '', quantity: 5, level: 0 } });
    await safetyStock.setSafetyStock({
      requestId: 'ss-2',
      safetyStock: { item, nodeId: 'DC1', quantity: 10, level: 0 },
    });
  });
  afterAll(async () => t.stop());

  it('counts ONHAND now, minus the node-level safety stock', async () => {
    const { availability } = await t.clients.availability.getNodeAvailability({
      item,
      nodeId: 'DC1',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability).toMatchObject({
      nodeId: 'DC1',
      available: 90,
      shortage: 0,
      onhandQuantity: 100,
      futureSupplyQuantity: 0,
      safetyStockQuantity: 10,
    });
  });

  it('adds future supply due by the date asked, never PLAN', async () => {
    const { availability } = await t.clients.availability.getNodeAvailability({
      item,
      nodeId: 'DC1',
      segment: undefined,
      asOfTime: inDays(3),
    });
    expect(availability).toMatchObject({ available: 110, futureSupplyQuantity: 20 });
  });

  it('floors at zero and reports the shortage where safety stock exceeds supply', async () => {
    const { availability } = await t.clients.availability.getNodeAvailability({
      item,
      nodeId: 'DC2',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability).toMatchObject({ available: 0, shortage: 2, safetyStockQuantity: 5 });
  });

  it('sums a distribution group in its priority order', async () => {
    const { availability } = await t.clients.availability.getNetworkAvailability({
      item,
      distributionGroupId: 'EAST',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability).toMatchObject({ distributionGroupId: 'EAST', available: 90, shortage: 2 });
    expect(availability?.nodes.map((n) => [n.nodeId, n.available])).toEqual([
      ['DC2', 0],
      ['DC1', 90],
    ]);
  });

  it('reports availability by date: now, then one bucket per ETA up to the horizon', async () => {
    const res = await t.clients.availability.getAvailabilityByDate({
      item,
      nodeId: 'DC1',
      segment: undefined,
      horizonTime: inDays(30),
    });
    expect(res.currentAvailable).toBe(90);
    expect(res.buckets.map((b) => [b.bucketTime?.getTime(), b.incomingQuantity, b.available])).toEqual([
      [now + 2 * DAY, 20, 110],
      [now + 10 * DAY, 50, 160],
    ]);
  });

  it('explains a figure: every supply, counted or not, and the safety stock source', async () => {
    const res = await t.clients.availability.explainAvailability({
      item,
      distributionGroupId: 'EAST',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(res.available).toBe(90);
    const dc1 = res.nodes.find((n) => n.availability?.nodeId === 'DC1');
    expect(dc1?.safetyStockSource).toBe('the rule for the item at this node');
    expect(dc1?.supplies.map((s) => [s.key?.supplyType, s.quantity, s.counted, s.reason])).toEqual([
      [T.SUPPLY_TYPE_INTRANSIT, 20, false, 'arrives after the time asked'],
      [T.SUPPLY_TYPE_ONHAND, 100, true, ''],
      [T.SUPPLY_TYPE_PLAN, 1000, false, 'PLAN supply never counts'],
      [T.SUPPLY_TYPE_PO_PLACED, 50, false, 'arrives after the time asked'],
    ]);
    expect(res.nodes.find((n) => n.availability?.nodeId === 'DC2')?.safetyStockSource).toBe('the item-level rule');
  });

  it('answers zero for an item with no supply at a known node', async () => {
    const { availability } = await t.clients.availability.getNodeAvailability({
      item: { itemId: 'UNKNOWN-ITEM', unitOfMeasure: '', productClass: '' },
      nodeId: 'STORE1',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability).toMatchObject({ available: 0, shortage: 0 });
  });

  it('keeps units of measure apart', async () => {
    const { availability } = await t.clients.availability.getNodeAvailability({
      item: { ...item, unitOfMeasure: 'CASE' },
      nodeId: 'DC1',
      segment: undefined,
      asOfTime: undefined,
    });
    expect(availability?.onhandQuantity).toBe(0);
  });

  it.each([
    [
      'an unknown node',
      () =>
        t.clients.availability.getNodeAvailability({ item, nodeId: 'NOPE', segment: undefined, asOfTime: undefined }),
      status.NOT_FOUND,
      'NODE_NOT_FOUND',
    ],
    [
      'an unknown group',
      () =>
        t.clients.availability.getNetworkAvailability({
          item,
          distributionGroupId: 'NOPE',
          segment: undefined,
          asOfTime: undefined,
        }),
      status.NOT_FOUND,
      'DISTRIBUTION_GROUP_NOT_FOUND',
    ],
    [
      'a missing item',
      () =>
        t.clients.availability.getNodeAvailability({
          item: undefined,
          nodeId: 'DC1',
          segment: undefined,
          asOfTime: undefined,
        }),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
    ],
    [
      'a horizon in the past',
      () =>
        t.clients.availability.getAvailabilityByDate({
          item,
          nodeId: 'DC1',
          segment: undefined,
          horizonTime: inDays(-1),
        }),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
    ],
    [
      'no scope',
      () => t.clients.availability.explainAvailability({ item, segment: undefined, asOfTime: undefined }),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
    ],
    [
      'an undefined segment',
      () =>
        t.clients.availability.getNodeAvailability({
          item,
          nodeId: 'DC1',
          segment: { segmentType: 'CHANNEL', segment: 'WEB' },
          asOfTime: undefined,
        }),
      status.FAILED_PRECONDITION,
      'SEGMENT_NOT_DEFINED',
    ],
  ] as const)('refuses %s', async (_name, call, code, reason) => {
    const err = await grpcError(call());
    expect(err.code).toBe(code);
    expect(errorDetails(err).errorInfo?.reason).toBe(reason);
  });
});
