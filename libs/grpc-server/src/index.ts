export * from './errors';
export * from './grpc-server';
export * from './logger';
export * from './reflection';
export * from './unary';
