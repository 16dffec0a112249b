export * from './clock';
export * from './logger';
export * from './startup-error';
export * from './settings';
export * from './service-process';
