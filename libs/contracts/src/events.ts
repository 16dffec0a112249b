// The change stream's event messages alone, for code that must not load gRPC (the store writes and reads
// them). Everything under gen/ is written by `nx run contracts:generate`.
export * from './gen/inventory/v1/events';
