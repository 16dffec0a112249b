import { createLogger } from '@inventory/runtime';
import { startAllocationService } from './allocation-service';
import { ConfigError, loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('allocation', config.logLevel);
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
  // Configuration problems are the operator's to fix: say what is wrong without a stack trace.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
