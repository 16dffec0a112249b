import pino, { type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(name: string, level: LogLevel): Logger {
  return pino({ name, level, base: { service: name } });
}
