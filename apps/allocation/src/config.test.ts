import { ConfigError } from '@inventory/runtime';
import { loadConfig } from './config';

describe('loadConfig', () => {
  it('defaults to SQLite in data/ on port 50051', () => {
    expect(loadConfig({})).toEqual({
      database: { dialect: 'sqlite', url: 'sqlite:data/inventory.sqlite' },
      databasePoolSize: 10,
      expirySweepIntervalMs: 5000,
      reservationTtlMs: 900_000,
      listenAddress: '0.0.0.0:50051',
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      healthCheckIntervalMs: 5000,
      maxSourceTimeSkewMs: 300_000,
      rebalancePageSize: 100,
      rebalanceIntervalMs: 5000,
      rebalanceSchedulerIntervalMs: 5000,
      rebalanceDetectorIntervalMs: 2000,
      rebalanceTriggerDebounceMs: 60_000,
      streamSequencerIntervalMs: 100,
      streamPollIntervalMs: 100,
      streamRetentionMs: 168 * 3_600_000,
      streamRetentionSweepIntervalMs: 60_000,
      watchMaxPerConnection: 1000,
      watchMaxTotal: 20_000,
      watchBufferPositions: 10_000,
      keepaliveTimeMs: 60_000,
      keepaliveTimeoutMs: 20_000,
    });
  });

  it('selects MySQL by URL', () => {
    expect(loadConfig({ INVENTORY_DATABASE_URL: 'mysql://root@127.0.0.1:3306/inventory' }).database.dialect).toBe(
      'mysql',
    );
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadConfig({
        INVENTORY_GRPC_ADDRESS: 'nowhere',
        INVENTORY_SHUTDOWN_GRACE_MS: '-5',
        INVENTORY_DATABASE_URL: 'mysql://host',
      }),
    ).toThrow(
      new ConfigError([
        'INVENTORY_DATABASE_URL: mysql URL needs a database name, e.g. mysql://root@127.0.0.1:3306/inventory',
        'INVENTORY_GRPC_ADDRESS must be host:port, got "nowhere"',
        'INVENTORY_SHUTDOWN_GRACE_MS must be a whole number from 0 to 600000, got "-5"',
      ]),
    );
  });

  it('reads the health check interval and the allowed source time skew', () => {
    const config = loadConfig({
      INVENTORY_HEALTH_CHECK_INTERVAL_MS: '250',
      INVENTORY_MAX_SOURCE_TIME_SKEW_SECONDS: '60',
    });
    expect([config.healthCheckIntervalMs, config.maxSourceTimeSkewMs]).toEqual([250, 60_000]);
    expect(() => loadConfig({ INVENTORY_MAX_SOURCE_TIME_SKEW_SECONDS: '-1' })).toThrow(
      'INVENTORY_MAX_SOURCE_TIME_SKEW_SECONDS must be a whole number from 0 to 86400, got "-1"',
    );
    expect(() => loadConfig({ INVENTORY_HEALTH_CHECK_INTERVAL_MS: 'often' })).toThrow(
      'INVENTORY_HEALTH_CHECK_INTERVAL_MS must be a whole number',
    );
  });
});
