import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { grpcError, promisify, rowCounts, startTestService, type TestService } from './testing/harness';
import { metadataLimit } from './testing/metadata-limit';

const ONHAND = pb.SupplyType.SUPPLY_TYPE_ONHAND;
const key = (itemId: string): pb.SupplyKey => ({
  item: { itemId, unitOfMeasure: '', productClass: '' },
  nodeId: 'DC1',
  segment: undefined,
  supplyType: ONHAND,
  etaTime: undefined,
});

// Input checks happen before the database is touched, so one database is enough here.
describe('bad input, as an independent client sends it', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sqlite');
    await t.clients.nodes.createNode({ requestId: 'node-DC1', node: { nodeId: 'DC1', nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined } });
  });
  afterAll(async () => t.stop());

  it('reports 100 bad lines to a client with an 8 KiB metadata limit as INVALID_ARGUMENT with its reason', async () => {
    const raw = new pb.SupplyServiceClient(t.address, credentials.createInsecure(), { interceptors: [metadataLimit()] });
    const supply = promisify(raw);
    const before = await rowCounts(t.database);
    const lines = Array.from({ length: 100 }, (_, i) => ({ key: key(`ITEM-${i}`), quantity: -1, sourceTime: new Date('2026-11-29T12:00:00Z') }));
    const err = await grpcError(supply.syncSupply({ requestId: 'many-bad', lines }));
    raw.close();

    expect(err.code).toBe(status.INVALID_ARGUMENT);
    const { errorInfo, badRequest } = errorDetails(err);
    expect(errorInfo?.reason).toBe('INVALID_ARGUMENT');
    const violations = badRequest?.fieldViolations ?? [];
    expect(violations[0]).toEqual({ field: 'lines[0].quantity', description: 'must not be negative' });
    expect(violations.length).toBeLessThan(50);
    expect(violations[violations.length - 1]?.description).toBe(`and ${100 - (violations.length - 1)} more violations not listed`);
    expect(err.details.length).toBeLessThanOrEqual(512);
    expect(await rowCounts(t.database)).toEqual(before);
  });
});
