import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify as promisifyNode } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { reflectionV1 } from '@inventory/contracts';
import { GrpcReflection } from 'grpc-js-reflection-client';
import { startTestService, type TestService } from './testing/harness';

const exec = promisifyNode(execFile);
const BUF = join(__dirname, '../../../node_modules/.bin/buf');

const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'inventory.v1.AllocationPlanService',
  'inventory.v1.AvailabilityService',
  'inventory.v1.ChangeStreamService',
  'inventory.v1.ConsumptionRuleService',
  'inventory.v1.DemandService',
  'inventory.v1.NodeService',
  'inventory.v1.RebalanceService',
  'inventory.v1.ReservationService',
  'inventory.v1.SafetyStockService',
  'inventory.v1.SegmentService',
  'inventory.v1.SupplyService',
];

describe('server reflection', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sqlite');
  });
  afterAll(async () => t.stop());

  it('lists and describes every service, with every method', async () => {
    const reflection = new GrpcReflection(t.address, credentials.createInsecure());
    expect((await reflection.listServices()).sort()).toEqual(SERVICES);
    for (const service of SERVICES) {
      const methods = await reflection.listMethods(service);
      expect(methods.length).toBeGreaterThan(0);
    }
    const supplyMethods = (await reflection.listMethods('inventory.v1.SupplyService')).map((m) => m.name);
    expect(supplyMethods.sort()).toEqual(['AdjustSupply', 'GetSupply', 'ListSupply', 'SyncSupply']);
    const planMethods = (await reflection.listMethods('inventory.v1.AllocationPlanService')).map((m) => m.name);
    expect(planMethods.sort()).toEqual([
      'GetAllocationPlan',
      'ListAllocationPlanVersions',
      'ListAllocationPlans',
      'SetAllocationPlan',
    ]);
  });

  it('serves a file with all of its imports, well-known types included', async () => {
    const client = new reflectionV1.ServerReflectionClient(t.address, credentials.createInsecure());
    const stream = client.serverReflectionInfo();
    const answer = new Promise<reflectionV1.ServerReflectionResponse>((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
    });
    stream.write({ host: '', fileContainingSymbol: 'inventory.v1.SupplyService.SyncSupply' });
    const response = await answer;
    stream.end();
    client.close();
    const files =
      response.fileDescriptorResponse?.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b)) ?? [];
    const names = files.map((f) => f.name);
    expect(names[0]).toBe('inventory/v1/supply_service.proto');
    // Every import of every served file is served too, so a client can resolve each type.
    for (const file of files) for (const dependency of file.dependency) expect(names).toContain(dependency);
    expect(names).toContain('google/protobuf/timestamp.proto');
  });

  // buf curl is a Go reflection client like grpcurl: it must resolve messages that import well-known types.
  const curl = (...args: string[]) => exec(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args]);

  it('lets a Go reflection client list the services and call a method that uses Timestamps', async () => {
    const listed = await curl('--list-services', `http://${t.address}`);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(SERVICES);

    await curl(
      '-d',
      JSON.stringify({ request_id: 'n1', node: { node_id: 'DC_EAST', node_type: 'NODE_TYPE_DC' } }),
      `http://${t.address}/inventory.v1.NodeService/CreateNode`,
    );
    const synced = await curl(
      '-d',
      JSON.stringify({
        request_id: 's1',
        lines: [
          {
            key: { item: { item_id: 'SKU-1' }, node_id: 'DC_EAST', supply_type: 'SUPPLY_TYPE_ONHAND' },
            quantity: 40,
            source_time: '2026-11-29T12:00:00Z',
          },
        ],
      }),
      `http://${t.address}/inventory.v1.SupplyService/SyncSupply`,
    );
    expect(JSON.parse(synced.stdout).results[0]).toMatchObject({
      outcome: 'SUPPLY_LINE_OUTCOME_APPLIED',
      quantityAfter: '40',
    });
    const got = await curl(
      '-d',
      JSON.stringify({ item: { item_id: 'SKU-1' }, node_id: 'DC_EAST' }),
      `http://${t.address}/inventory.v1.AvailabilityService/GetNodeAvailability`,
    );
    expect(JSON.parse(got.stdout)).toEqual({
      availability: {
        nodeId: 'DC_EAST',
        available: '40',
        onhandQuantity: '40',
        ownAvailable: '40',
        borrowLimit: 'BORROW_LIMIT_NOT_BORROWING',
      },
    });
  });

  it('lets a Go reflection client invoke every inventory method', async () => {
    const methods = (await curl('--list-methods', `http://${t.address}`)).stdout
      .trim()
      .split('\n')
      .filter((m) => m.startsWith('inventory.v1.'));
    expect(methods).toHaveLength(49);
    for (const method of methods) {
      // An empty request is refused or answered by the service itself: what matters is that the client
      // resolved the method and its messages through reflection and reached the handler.
      // (Subscribe with an empty request would follow the stream forever; a bad filter is refused at once.)
      const request = method.endsWith('ChangeStreamService/Subscribe') ? '{"event_types":["none"]}' : '{}';
      const answer = await curl('-d', request, `http://${t.address}/${method}`).then(
        (r) => r.stdout,
        (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
      );
      expect([method, answer]).not.toEqual([
        method,
        expect.stringMatching(/unimplemented|"internal"|"unknown"|failed to|could not/i),
      ]);
    }
  });
});
