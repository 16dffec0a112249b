import { Settings, type LogLevel } from '@inventory/runtime';
import { parseDatabaseUrl, type DatabaseTarget } from '@inventory/store';

/** Everything the audit app reads from its environment, checked once at start-up. */
export interface AuditConfig {
  /** The audit app's own database: its records and its position in the change stream. */
  readonly database: DatabaseTarget;
  readonly databasePoolSize: number;
  readonly listenAddress: string;
  /** The allocation app whose change stream it consumes, as host:port. */
  readonly inventoryAddress: string;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** How often health checks the database (NOT_SERVING while it fails); 0 never. */
  readonly healthCheckIntervalMs: number;
  /** The longest wait between two attempts to reach the allocation app. */
  readonly reconnectMaxMs: number;
  /** Most records stored in one transaction. */
  readonly batchSize: number;
  /** How often every plan's compliance is checked; 0 never (only when asked). */
  readonly complianceIntervalMs: number;
}

/** The variables, their defaults and meaning (the README's configuration table says the same). */
export const AUDIT_CONFIG_DEFAULTS = {
  AUDIT_DATABASE_URL: 'sqlite:data/audit.sqlite',
  AUDIT_DATABASE_POOL_SIZE: '5',
  AUDIT_GRPC_ADDRESS: '0.0.0.0:50052',
  AUDIT_INVENTORY_ADDRESS: 'localhost:50051',
  AUDIT_LOG_LEVEL: 'info',
  AUDIT_SHUTDOWN_GRACE_MS: '10000',
  AUDIT_HEALTH_CHECK_INTERVAL_MS: '5000',
  AUDIT_RECONNECT_MAX_MS: '10000',
  AUDIT_BATCH_SIZE: '1000',
  AUDIT_COMPLIANCE_INTERVAL_MS: '300000',
} as const;

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadAuditConfig(env: Record<string, string | undefined>): AuditConfig {
  const settings = new Settings(env, AUDIT_CONFIG_DEFAULTS);
  const config = {
    database: settings.parsed('AUDIT_DATABASE_URL', parseDatabaseUrl) as DatabaseTarget,
    databasePoolSize: settings.integer('AUDIT_DATABASE_POOL_SIZE', 1, 1000),
    listenAddress: settings.address('AUDIT_GRPC_ADDRESS'),
    inventoryAddress: settings.address('AUDIT_INVENTORY_ADDRESS'),
    logLevel: settings.logLevel('AUDIT_LOG_LEVEL'),
    shutdownGraceMs: settings.integer('AUDIT_SHUTDOWN_GRACE_MS', 0, 600_000),
    healthCheckIntervalMs: settings.integer('AUDIT_HEALTH_CHECK_INTERVAL_MS', 0, 3_600_000),
    reconnectMaxMs: settings.integer('AUDIT_RECONNECT_MAX_MS', 100, 600_000),
    batchSize: settings.integer('AUDIT_BATCH_SIZE', 1, 10_000),
    complianceIntervalMs: settings.integer('AUDIT_COMPLIANCE_INTERVAL_MS', 0, 86_400_000),
  };
  settings.throwIfBad();
  return config;
}
