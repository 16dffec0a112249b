import { createLogger, type Logger, type LogLevel } from './logger';
import { ConfigError } from './settings';
import { StartupError } from './startup-error';

/** A started service: stopping it drains its calls and closes what it opened. */
export interface StoppableService {
  stop(): Promise<void>;
}

/**
 * Runs a service as this process: loads its settings, starts it, and stops it gracefully on SIGTERM or
 * SIGINT. A start that fails logs one JSON line naming what to fix (no stack trace) and exits with 1.
 */
export function runServiceProcess<Config extends { readonly logLevel: LogLevel }>(
  name: string,
  load: (env: Record<string, string | undefined>) => Config,
  start: (config: Config, logger: Logger) => Promise<StoppableService>,
): void {
  // Until the configuration names a log level, failures are logged at the default one.
  let logger = createLogger(name, 'info');
  const main = async () => {
    const config = load(process.env);
    logger = createLogger(name, config.logLevel);
    const service = await start(config, logger);
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
  };
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      const settings = err.problems.map((p) => /^[A-Z][A-Z0-9_]+/.exec(p)?.[0] ?? '');
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
}
