import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { healthV1, reflectionV1 } from '@inventory/contracts';
import { listeningPort, startProcess as start, waitFor } from './testing/process';

describe('the allocation process', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'allocation-process-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its SQLite file on first start, serves health, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'fresh', 'inventory.sqlite');
    const proc = start({ INVENTORY_DATABASE_URL: `sqlite:${file}`, INVENTORY_GRPC_ADDRESS: '127.0.0.1:0' });
    const port = await listeningPort(proc);
    expect(existsSync(file)).toBe(true);

    const health = new healthV1.HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const answer = await new Promise<healthV1.HealthCheckResponse_ServingStatus>((resolve, reject) =>
      health.check({ service: 'inventory.v1.SupplyService' }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
    health.close();
    expect(answer).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('"msg":"stopped"');
  });

  it('gives calls in flight the grace period, even when Ctrl-C arrives twice', async () => {
    const proc = start({
      INVENTORY_DATABASE_URL: `sqlite:${join(dir, 'grace.sqlite')}`,
      INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
      INVENTORY_SHUTDOWN_GRACE_MS: '500',
    });
    const port = await listeningPort(proc);
    // An open stream keeps the server from finishing its drain until the grace period ends.
    const reflection = new reflectionV1.ServerReflectionClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const stream = reflection.serverReflectionInfo();
    stream.on('error', () => undefined);
    const first = new Promise((resolve) => stream.once('data', resolve));
    stream.write({ host: '', listServices: '' });
    await first;

    proc.child.kill('SIGINT');
    await waitFor(() => (proc.output().includes('"msg":"shutting down"') ? true : undefined));
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('calls still running after the grace period');
    expect(proc.output()).toContain('"msg":"stopped"');
    reflection.close();
  });

  it('refuses to start on bad configuration, naming the variable, without a stack trace', async () => {
    const proc = start({ INVENTORY_LOG_LEVEL: 'loud', INVENTORY_DATABASE_URL: 'postgres://x' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain('INVENTORY_LOG_LEVEL must be one of');
    expect(proc.output()).toContain('INVENTORY_DATABASE_URL: unsupported database URL');
    expect(proc.output()).not.toMatch(/\n\s+at /);
  });
});
