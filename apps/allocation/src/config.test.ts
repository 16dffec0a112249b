import { ConfigError, loadConfig } from './config';

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
    });
  });

  it('selects MySQL by URL', () => {
    expect(loadConfig({ INVENTORY_DATABASE_URL: 'mysql://root@127.0.0.1:3306/inventory' }).database.dialect).toBe('mysql');
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ INVENTORY_GRPC_ADDRESS: 'nowhere', INVENTORY_SHUTDOWN_GRACE_MS: '-5', INVENTORY_DATABASE_URL: 'mysql://host' })).toThrow(
      new ConfigError(
        'invalid configuration:\n' +
          '  INVENTORY_DATABASE_URL: mysql URL needs a database name, e.g. mysql://root@127.0.0.1:3306/inventory\n' +
          '  INVENTORY_GRPC_ADDRESS must be host:port, got "nowhere"\n' +
          '  INVENTORY_SHUTDOWN_GRACE_MS must be a whole number from 0 to 600000, got "-5"',
      ),
    );
  });
});
