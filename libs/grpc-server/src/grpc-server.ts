import {
  Server,
  ServerCredentials,
  setLogger,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@inventory/runtime';
import { HealthCheck } from './health-check';
import { withTolerantDecoding } from './malformed';
import { addReflection, DescriptorIndex } from './reflection';
import { WireCheck } from './wire-check';

/** A service to serve: its generated definition, its implementation and its fully qualified name. */
export interface ServiceRegistration {
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/** The registration of a generated service definition, named after its first method's path. */
export function registration(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): ServiceRegistration {
  const firstPath = (Object.values(definition)[0] as { path: string }).path;
  return { name: firstPath.split('/')[1] as string, definition, implementation };
}

/**
 * HTTP/2 keepalive: the server pings each connection every `timeMs` and closes one whose ping goes unanswered
 * for `timeoutMs`, so that long-lived streams survive proxies that drop quiet connections and dead peers are
 * noticed.
 */
export interface Keepalive {
  readonly timeMs: number;
  readonly timeoutMs: number;
}

/**
 * A grpc-js server with the standard health service and server reflection over the given descriptor set,
 * and a graceful shutdown: health turns NOT_SERVING, new calls are refused, calls in flight get `graceMs`
 * to finish before they are cancelled. Health can follow a periodic check of what the services depend on
 * (see {@link GrpcServer.followHealthCheck}).
 */
export class GrpcServer {
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private readonly serviceNames: string[];
  private healthCheck: HealthCheck | undefined;
  private readonly extraHealthNames: string[] = [];
  private stopping = false;

  constructor(
    services: readonly ServiceRegistration[],
    descriptorSet: Uint8Array,
    private readonly logger: Logger,
    keepalive: Keepalive = { timeMs: 60_000, timeoutMs: 20_000 },
  ) {
    this.server = new Server({
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.keepalive_time_ms': keepalive.timeMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
    });
    // grpc-js prints its own complaints as plain text; what matters of them reaches the caller as an error
    // (a failed bind, a failed call), so they are kept as debug lines of the JSON log.
    setLogger({ error: (...args: unknown[]) => logger.debug({ grpc: args.map(String).join(' ') }, 'grpc-js') });
    this.serviceNames = services.map((s) => s.name);
    const wireCheck = new WireCheck(descriptorSet);
    for (const s of services) this.server.addService(withTolerantDecoding(s.definition, wireCheck), s.implementation);
    this.health = new HealthImplementation(Object.fromEntries(['', ...this.serviceNames].map((n) => [n, 'SERVING'])));
    this.health.addToServer(this.server);
    addReflection(this.server, new DescriptorIndex(descriptorSet), [
      ...this.serviceNames,
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
    ]);
  }

  /** Binds `host:port` (port 0 picks a free one) and returns the bound port. */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.logger.info({ address, port, services: this.serviceNames }, 'listening');
    return port;
  }

  /**
   * Runs `check` every `intervalMs` (and once now): while it fails (or takes longer than the interval),
   * every service reports NOT_SERVING; when it passes again, SERVING. Changes are logged once each.
   */
  followHealthCheck(check: () => Promise<void>, intervalMs: number): void {
    this.healthCheck = new HealthCheck(check, intervalMs, (serving, err) => {
      if (serving) this.logger.info('health check passes again; serving');
      else this.logger.warn({ err }, 'health check failed; not serving');
      this.setServing(serving);
    });
  }

  async shutdown(graceMs: number): Promise<void> {
    await this.healthCheck?.stop();
    this.stopping = true;
    this.setServing(false);
    for (const name of this.extraHealthNames) this.health.setStatus(name, 'NOT_SERVING');
    const graceful = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    if ((await Promise.race([graceful, deadline])) === 'timeout') {
      this.logger.warn({ graceMs }, 'calls still running after the grace period; cancelling them');
      this.server.forceShutdown();
    }
    clearTimeout(timer);
  }

  /**
   * Reports `serving` for a health name of the caller's own, apart from the services' (for example a part
   * of the process whose outage does not stop the services answering). It turns NOT_SERVING at shutdown.
   */
  setHealth(name: string, serving: boolean): void {
    if (!this.extraHealthNames.includes(name)) this.extraHealthNames.push(name);
    this.health.setStatus(name, serving && !this.stopping ? 'SERVING' : 'NOT_SERVING');
  }

  private setServing(serving: boolean): void {
    for (const name of ['', ...this.serviceNames]) this.health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
