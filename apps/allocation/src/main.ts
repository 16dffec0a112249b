import { createLogger, type Logger } from '@inventory/runtime';
import { startAllocationService } from './allocation-service';
import { ConfigError, loadConfig } from './config';
import { StartupError } from './startup-error';

/** Until the configuration names a log level, failures are logged at the default one. */
let logger: Logger = createLogger('allocation', 'info');

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  logger = createLogger('allocation', config.logLevel);
  const service = await startAllocationService(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: npm forwards the terminal's Ctrl-C, so the signal can arrive twice; the grace period bounds the wait.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // One JSON line, like every other log line, naming what to fix; no stack trace.
  if (err instanceof ConfigError) {
    const settings = err.problems.map((p) => /^INVENTORY_[A-Z_]+/.exec(p)?.[0] ?? '');
    logger.fatal({ settings, problems: err.problems }, err.message);
  } else if (err instanceof StartupError) {
    logger.fatal(
      { setting: err.setting, cause: err.detail },
      `cannot start: ${err.message}: ${err.detail}; check ${err.setting}`,
    );
  } else {
    logger.fatal({ cause: err instanceof Error ? err.message : String(err) }, 'cannot start');
  }
  process.exit(1);
});
