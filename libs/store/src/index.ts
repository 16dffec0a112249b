export * from './database';
export * from './transaction';
export * from './operations/idempotency';
export * from './operations/nodes';
export * from './operations/outbox';
export * from './operations/safety-stock';
export * from './operations/supply';
