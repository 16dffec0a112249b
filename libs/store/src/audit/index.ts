export * from './records';
export * from './cycle-counts';
export * from './compliance';
