import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { descriptorSetBase64 } from '@inventory/contracts';
import { DescriptorIndex } from './reflection';

const index = new DescriptorIndex(Buffer.from(descriptorSetBase64, 'base64'));
const names = (files: Uint8Array[] | undefined) =>
  (files ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b).name);

describe('DescriptorIndex', () => {
  it('finds the file of services, methods, messages, nested types, fields and enum values', () => {
    for (const symbol of [
      'inventory.v1.SupplyService',
      'inventory.v1.SupplyService.SyncSupply',
      'inventory.v1.SyncSupplyRequest',
      'inventory.v1.SyncSupplyRequest.lines',
      'grpc.health.v1.HealthCheckResponse.ServingStatus',
      'inventory.v1.SUPPLY_TYPE_ONHAND',
    ]) {
      expect(index.filesForSymbol(symbol)).toBeDefined();
    }
    expect(index.filesForSymbol('inventory.v1.Nope')).toBeUndefined();
  });

  it('serves a file first, then its imports transitively, once each', () => {
    // safety_stock_service imports keys and safety_stock, which imports keys again.
    expect(names(index.filesForName('inventory/v1/safety_stock_service.proto'))).toEqual([
      'inventory/v1/safety_stock_service.proto',
      'inventory/v1/keys.proto',
      'inventory/v1/safety_stock.proto',
    ]);
  });

  it('serves the bytes exactly as they are in the descriptor set', () => {
    const set = Buffer.from(descriptorSetBase64, 'base64');
    const served = Buffer.from(index.filesForName('inventory/v1/keys.proto')![0]!);
    expect(set.includes(served)).toBe(true);
  });
});
