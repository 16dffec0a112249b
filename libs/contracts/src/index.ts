// The public surface of the generated contracts. Everything under gen/ is written by `nx run contracts:generate`.
export * from './gen/inventory/v1/availability';
export * from './gen/inventory/v1/availability_service';
export * from './gen/inventory/v1/keys';
export * from './gen/inventory/v1/node';
export * from './gen/inventory/v1/node_service';
export * from './gen/inventory/v1/safety_stock';
export * from './gen/inventory/v1/safety_stock_service';
export * from './gen/inventory/v1/supply';
export * from './gen/inventory/v1/supply_service';
export * as healthV1 from './gen/grpc/health/v1/health';
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection';
export { Status } from './gen/google/rpc/status';
export { BadRequest, BadRequest_FieldViolation, ErrorInfo } from './gen/google/rpc/error_details';
export { Any } from './gen/google/protobuf/any';
export { descriptorSetBase64 } from './gen/descriptor_set';
