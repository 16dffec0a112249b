export * from './availability';
export * from './errors';
export * from './keys';
export * from './network';
export * from './safety-stock';
export * from './supply';
export * from './supply-transactions';
export * from './validation';
