export * from './records';
export * from './cycle-counts';
