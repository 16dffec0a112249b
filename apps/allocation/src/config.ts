import { Settings, type LogLevel } from '@inventory/runtime';
import { parseDatabaseUrl, type DatabaseTarget } from '@inventory/store';

/** Everything the allocation service reads from its environment, checked once at start-up. */
export interface AllocationConfig {
  readonly database: DatabaseTarget;
  /** MySQL connection pool size (SQLite always uses one connection). */
  readonly databasePoolSize: number;
  readonly listenAddress: string;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** How long a reservation holds stock when the caller gives no expiry. */
  readonly reservationTtlMs: number;
  /** How often this replica tries to take the sweeper lease and release expired reservations; 0 never. */
  readonly expirySweepIntervalMs: number;
  /** How often health checks the database (NOT_SERVING while it fails); 0 never. */
  readonly healthCheckIntervalMs: number;
  /** How far past this server's clock a source time may be; later ones are refused as bad input. */
  readonly maxSourceTimeSkewMs: number;
  /** Item-nodes a background rebalance run does per transaction. */
  readonly rebalancePageSize: number;
  /** How often this replica tries to take the rebalance lease and take runs forward; 0 only when kicked. */
  readonly rebalanceIntervalMs: number;
  /** How often this replica tries to take the scheduler lease and start the scheduled runs due; 0 never. */
  readonly rebalanceSchedulerIntervalMs: number;
  /** How often this replica tries to take the detector lease and read the change stream for triggers; 0 never. */
  readonly rebalanceDetectorIntervalMs: number;
  /** The least time between two system-detected rebalances of one item-node (per segment type). */
  readonly rebalanceTriggerDebounceMs: number;
  /** How often this replica tries to take the sequencer lease and stamp committed events; 0 never. */
  readonly streamSequencerIntervalMs: number;
  /** How often a Subscribe call that has caught up reads the database for newly stamped events. */
  readonly streamPollIntervalMs: number;
  /** How long after its commit the change stream keeps an event. */
  readonly streamRetentionMs: number;
  /** How often this replica tries to take the retention lease and trim the change stream; 0 never. */
  readonly streamRetentionSweepIntervalMs: number;
  /** Most availability watches one connection may have open. */
  readonly watchMaxPerConnection: number;
  /** Most availability watches this replica serves at once. */
  readonly watchMaxTotal: number;
  /** Most changed positions a watch holds for a caller that does not read them before it ends the watch. */
  readonly watchBufferPositions: number;
  /** How often the server pings each connection (HTTP/2 keepalive). */
  readonly keepaliveTimeMs: number;
  /** How long the server waits for a ping's answer before it closes the connection. */
  readonly keepaliveTimeoutMs: number;
}

/** The variables, their defaults and meaning (the README's configuration table says the same). */
export const CONFIG_DEFAULTS = {
  INVENTORY_DATABASE_URL: 'sqlite:data/inventory.sqlite',
  INVENTORY_DATABASE_POOL_SIZE: '10',
  INVENTORY_GRPC_ADDRESS: '0.0.0.0:50051',
  INVENTORY_LOG_LEVEL: 'info',
  INVENTORY_SHUTDOWN_GRACE_MS: '10000',
  INVENTORY_RESERVATION_TTL_SECONDS: '900',
  INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '5000',
  INVENTORY_HEALTH_CHECK_INTERVAL_MS: '5000',
  INVENTORY_MAX_SOURCE_TIME_SKEW_SECONDS: '300',
  INVENTORY_REBALANCE_PAGE_SIZE: '100',
  INVENTORY_REBALANCE_INTERVAL_MS: '5000',
  INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS: '5000',
  INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS: '2000',
  INVENTORY_REBALANCE_TRIGGER_DEBOUNCE_MS: '60000',
  INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '100',
  INVENTORY_STREAM_POLL_INTERVAL_MS: '100',
  INVENTORY_STREAM_RETENTION_HOURS: '168',
  INVENTORY_STREAM_RETENTION_SWEEP_INTERVAL_MS: '60000',
  INVENTORY_WATCH_MAX_PER_CONNECTION: '1000',
  INVENTORY_WATCH_MAX_TOTAL: '20000',
  INVENTORY_WATCH_BUFFER_POSITIONS: '10000',
  INVENTORY_GRPC_KEEPALIVE_TIME_MS: '60000',
  INVENTORY_GRPC_KEEPALIVE_TIMEOUT_MS: '20000',
} as const;

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AllocationConfig {
  const settings = new Settings(env, CONFIG_DEFAULTS);
  const integer = settings.integer.bind(settings);
  const database = settings.parsed('INVENTORY_DATABASE_URL', parseDatabaseUrl);
  const listenAddress = settings.address('INVENTORY_GRPC_ADDRESS');
  const logLevel = settings.logLevel('INVENTORY_LOG_LEVEL');
  const databasePoolSize = integer('INVENTORY_DATABASE_POOL_SIZE', 1, 1000);
  const shutdownGraceMs = integer('INVENTORY_SHUTDOWN_GRACE_MS', 0, 600_000);
  const reservationTtlMs = integer('INVENTORY_RESERVATION_TTL_SECONDS', 1, 31_536_000) * 1000;
  const expirySweepIntervalMs = integer('INVENTORY_EXPIRY_SWEEP_INTERVAL_MS', 0, 3_600_000);
  const healthCheckIntervalMs = integer('INVENTORY_HEALTH_CHECK_INTERVAL_MS', 0, 3_600_000);
  const maxSourceTimeSkewMs = integer('INVENTORY_MAX_SOURCE_TIME_SKEW_SECONDS', 0, 86_400) * 1000;
  const rebalancePageSize = integer('INVENTORY_REBALANCE_PAGE_SIZE', 1, 1000);
  const rebalanceIntervalMs = integer('INVENTORY_REBALANCE_INTERVAL_MS', 0, 3_600_000);
  const rebalanceSchedulerIntervalMs = integer('INVENTORY_REBALANCE_SCHEDULER_INTERVAL_MS', 0, 3_600_000);
  const rebalanceDetectorIntervalMs = integer('INVENTORY_REBALANCE_DETECTOR_INTERVAL_MS', 0, 3_600_000);
  const rebalanceTriggerDebounceMs = integer('INVENTORY_REBALANCE_TRIGGER_DEBOUNCE_MS', 0, 86_400_000);
  const streamSequencerIntervalMs = integer('INVENTORY_STREAM_SEQUENCER_INTERVAL_MS', 0, 3_600_000);
  const streamPollIntervalMs = integer('INVENTORY_STREAM_POLL_INTERVAL_MS', 1, 60_000);
  const streamRetentionMs = integer('INVENTORY_STREAM_RETENTION_HOURS', 1, 87_600) * 3_600_000;
  const streamRetentionSweepIntervalMs = integer('INVENTORY_STREAM_RETENTION_SWEEP_INTERVAL_MS', 0, 3_600_000);
  const watchMaxPerConnection = integer('INVENTORY_WATCH_MAX_PER_CONNECTION', 1, 1_000_000);
  const watchMaxTotal = integer('INVENTORY_WATCH_MAX_TOTAL', 1, 1_000_000);
  const watchBufferPositions = integer('INVENTORY_WATCH_BUFFER_POSITIONS', 1, 1_000_000);
  const keepaliveTimeMs = integer('INVENTORY_GRPC_KEEPALIVE_TIME_MS', 1000, 86_400_000);
  const keepaliveTimeoutMs = integer('INVENTORY_GRPC_KEEPALIVE_TIMEOUT_MS', 1000, 3_600_000);

  settings.throwIfBad();
  return {
    database: database as DatabaseTarget,
    databasePoolSize,
    listenAddress,
    logLevel,
    shutdownGraceMs,
    reservationTtlMs,
    expirySweepIntervalMs,
    healthCheckIntervalMs,
    maxSourceTimeSkewMs,
    rebalancePageSize,
    rebalanceIntervalMs,
    rebalanceSchedulerIntervalMs,
    rebalanceDetectorIntervalMs,
    rebalanceTriggerDebounceMs,
    streamSequencerIntervalMs,
    streamPollIntervalMs,
    streamRetentionMs,
    streamRetentionSweepIntervalMs,
    watchMaxPerConnection,
    watchMaxTotal,
    watchBufferPositions,
    keepaliveTimeMs,
    keepaliveTimeoutMs,
  };
}
