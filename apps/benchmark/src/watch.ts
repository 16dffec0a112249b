/**
 * The watch scenario: AvailabilityService.WatchAvailability on the real service (a fresh service process and
 * database) against a bare grpc-js fan-out server (a child process, no database), the same client, watcher
 * layout and change rate for both. Each is measured twice on the same process: commit-to-watcher latency
 * at `watchers` watchers, then memory per idle watcher at `idleWatchers`. The service runs first, so that
 * the baseline's messages can take the size of the service's own.
 */
import { check, type Check } from './check';
import type { WatchOptions } from './flags';
import { SERVICE_DATABASE, ServiceUnderTest } from './service';
import { FanoutServer } from './watch-fanout';
import { measureWatchLatency, type LatencySettings, type WatchLatency } from './watch-latency';
import { measureIdleMemory, type IdleMemory } from './watch-memory';
import { FanoutMessages } from './watch-messages';
import { seedWatchItems, serviceCommit, serviceWatchTarget } from './watch-service';
import { WATCHERS_PER_CONNECTION } from './watchers';

export interface WatchSettings extends WatchOptions {
  readonly mysqlUrl: string;
  readonly servicePoolSize: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/** The scenario's results; a part that failed is missing (its checks say why). */
export interface WatchMeasurement {
  readonly watchers: number;
  readonly items: number;
  readonly rate: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly idleWatchers: number;
  readonly watchersPerConnection: number;
  /** The encoded size of the baseline's change messages, and whether it is the service's measured one. */
  readonly baselineMessageBytes: number;
  readonly baselineMessageSize: 'service' | 'sample';
  readonly latency: { readonly service?: WatchLatency; readonly baseline?: WatchLatency };
  readonly memory: { readonly service?: IdleMemory; readonly baseline?: IdleMemory };
}

export async function measureWatch(
  settings: WatchSettings,
  log: (line: string) => void,
): Promise<{ measurement: WatchMeasurement; checks: Check[] }> {
  const latencySettings: LatencySettings = {
    watchers: settings.watchers,
    items: settings.items,
    rate: settings.rate,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
  };
  const checks: Check[] = [];
  const service = await measureService(settings, latencySettings, log);
  checks.push(...service.checks);
  const serviceBytes = service.latency?.oneUpdateMessageBytes;
  const messages = new FanoutMessages(serviceBytes);
  const baseline = await measureBaseline(settings, latencySettings, messages, log);
  checks.push(...baseline.checks);
  return {
    measurement: {
      watchers: settings.watchers,
      items: settings.items,
      rate: settings.rate,
      warmupSeconds: settings.warmupSeconds,
      seconds: settings.seconds,
      idleWatchers: settings.idleWatchers,
      watchersPerConnection: WATCHERS_PER_CONNECTION,
      baselineMessageBytes: messages.bytes,
      baselineMessageSize: serviceBytes === undefined ? 'sample' : 'service',
      latency: { service: service.latency, baseline: baseline.latency },
      memory: { service: service.memory, baseline: baseline.memory },
    },
    checks,
  };
}

interface Part {
  latency?: WatchLatency;
  memory?: IdleMemory;
  checks: Check[];
}

/**
 * The service on a fresh database, seeded through the API, with watch limits that admit the run. A
 * service that cannot start, be seeded or serve the watches is a failed check, not a crash.
 */
async function measureService(settings: WatchSettings, latency: LatencySettings, log: (line: string) => void) {
  const part: Part = { checks: [] };
  const tag = Date.now().toString(36);
  log(`service watch: starting the allocation service on a fresh ${SERVICE_DATABASE} database`);
  let service: ServiceUnderTest;
  try {
    service = await ServiceUnderTest.start({
      mysqlUrl: settings.mysqlUrl,
      poolSize: settings.servicePoolSize,
      gcHook: true,
      env: {
        INVENTORY_WATCH_MAX_PER_CONNECTION: String(WATCHERS_PER_CONNECTION),
        // Room for both measurements' watches at once, in case the server is still closing the first ones.
        INVENTORY_WATCH_MAX_TOTAL: String(Math.max(20_000, settings.watchers + settings.idleWatchers)),
      },
    });
  } catch (err) {
    part.checks.push(check('service watch: start', false, (err as Error).message));
    return part;
  }
  try {
    log(`service watch: seeding ${settings.items} items at one node through the API`);
    try {
      await seedWatchItems(service, settings.items, tag);
    } catch (err) {
      part.checks.push(check('service watch: seed', false, (err as Error).message));
      return part;
    }
    const target = serviceWatchTarget(service);
    await run(part, 'service watch', log, async () => {
      const result = await measureWatchLatency(
        'service watch',
        target,
        serviceCommit(service, tag),
        () => service.cpuSeconds(),
        latency,
        log,
      );
      part.latency = result.latency;
      return result.checks;
    });
    if (settings.idleWatchers > 0)
      await run(part, 'service idle', log, async () => {
        const result = await measureIdleMemory(
          'service idle',
          target,
          service,
          settings.idleWatchers,
          settings.items,
          log,
        );
        part.memory = result.memory;
        return result.checks;
      });
    return part;
  } finally {
    await service.stop();
  }
}

/** The fan-out server, measured as the service is. */
async function measureBaseline(
  settings: WatchSettings,
  latency: LatencySettings,
  messages: FanoutMessages,
  log: (line: string) => void,
) {
  const part: Part = { checks: [] };
  log(`baseline watch: bare grpc-js fan-out server (child process), ${messages.bytes}-byte change messages`);
  let server: FanoutServer;
  try {
    server = await FanoutServer.start();
  } catch (err) {
    part.checks.push(check('baseline watch: start', false, (err as Error).message));
    return part;
  }
  try {
    await run(part, 'baseline watch', log, async () => {
      const channel = server.channel();
      try {
        const result = await measureWatchLatency(
          'baseline watch',
          server.target(),
          server.commit(channel, messages),
          () => server.cpuSeconds(),
          latency,
          log,
        );
        part.latency = result.latency;
        return result.checks;
      } finally {
        channel.close();
      }
    });
    if (settings.idleWatchers > 0)
      await run(part, 'baseline idle', log, async () => {
        const result = await measureIdleMemory(
          'baseline idle',
          server.target(),
          server,
          settings.idleWatchers,
          settings.items,
          log,
        );
        part.memory = result.memory;
        return result.checks;
      });
    return part;
  } finally {
    await server.stop();
  }
}

/** Runs one measurement; whatever it throws becomes a failed check named `name`. */
async function run(part: Part, name: string, log: (line: string) => void, measure: () => Promise<Check[]>) {
  try {
    part.checks.push(...(await measure()));
  } catch (err) {
    log(`${name}: ${(err as Error).message}`);
    part.checks.push(check(`${name}: run`, false, (err as Error).message));
  }
}
