export * from './errors';
export * from './grpc-server';
export * from './malformed';
export * from './reflection';
export * from './unary';
