import { LOG_LEVELS, type LogLevel } from './logger';

/** Thrown when the environment has bad settings; each problem names its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/**
 * Reads a process's settings from its environment, each with a default, and collects every bad one, so
 * that an operator fixes them all in one go: read them all, then call {@link Settings.throwIfBad}.
 */
export class Settings<Name extends string> {
  readonly problems: string[] = [];

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly defaults: Record<Name, string>,
  ) {}

  /** The variable's value, or its default when it is unset or empty. */
  text(name: Name): string {
    return this.env[name] || this.defaults[name];
  }

  /** A whole number from `min` to `max`. */
  integer(name: Name, min: number, max: number): number {
    const value = Number(this.text(name));
    if (!Number.isInteger(value) || value < min || value > max)
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got "${this.text(name)}"`);
    return value;
  }

  /** A `host:port` address. */
  address(name: Name): string {
    const value = this.text(name);
    if (!/^.+:\d{1,5}$/.test(value)) this.problems.push(`${name} must be host:port, got "${value}"`);
    return value;
  }

  logLevel(name: Name): LogLevel {
    const value = this.text(name) as LogLevel;
    if (!LOG_LEVELS.includes(value))
      this.problems.push(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
    return value;
  }

  /** Parses the variable with `parse`, which throws a message naming the problem. */
  parsed<T>(name: Name, parse: (value: string) => T): T | undefined {
    try {
      return parse(this.text(name));
    } catch (err) {
      this.problems.push(`${name}: ${(err as Error).message}`);
      return undefined;
    }
  }

  throwIfBad(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
