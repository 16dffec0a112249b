export * from './errors';
export * from './grpc-server';
export * from './health-check';
export * from './malformed';
export * from './reflection';
export * from './server-stream';
export * from './unary';
export * from './wire-check';
