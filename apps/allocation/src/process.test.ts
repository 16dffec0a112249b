import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
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

  /** The one fatal line of a process whose every line of output is JSON. */
  const fatalLine = (proc: ReturnType<typeof start>) => {
    const lines = proc
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.filter((l) => l['level'] === 60);
    expect(fatal).toHaveLength(1);
    return fatal[0] as Record<string, unknown>;
  };

  it('refuses to start on bad configuration with one JSON line naming every bad variable, without a stack trace', async () => {
    const proc = start({ INVENTORY_LOG_LEVEL: 'loud', INVENTORY_DATABASE_URL: 'postgres://x' });
    expect(await proc.exited).toBe(1);
    expect(proc.output().trim().split('\n')).toHaveLength(1);
    const line = fatalLine(proc);
    expect(line).toMatchObject({ settings: ['INVENTORY_DATABASE_URL', 'INVENTORY_LOG_LEVEL'] });
    expect(line['msg']).toContain('INVENTORY_LOG_LEVEL must be one of');
    expect(line['msg']).toContain('INVENTORY_DATABASE_URL: unsupported database URL');
    expect(proc.output()).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('refuses to start on an address in use with one JSON line naming INVENTORY_GRPC_ADDRESS', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const proc = start({
      INVENTORY_DATABASE_URL: `sqlite:${join(dir, 'taken.sqlite')}`,
      INVENTORY_GRPC_ADDRESS: `127.0.0.1:${port}`,
    });
    const code = await proc.exited;
    taken.close();
    expect(code).toBe(1);
    const line = fatalLine(proc);
    expect(line).toMatchObject({ level: 60, setting: 'INVENTORY_GRPC_ADDRESS' });
    expect(line['msg']).toContain(`cannot listen on 127.0.0.1:${port}`);
    expect(line['cause']).toMatch(/EADDRINUSE|in use/);
    expect(proc.output()).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('refuses to start on an unreachable database with one JSON line naming INVENTORY_DATABASE_URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const proc = start({
      INVENTORY_DATABASE_URL: `mysql://inventory:secret@127.0.0.1:${port}/inventory`,
      INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
    });
    expect(await proc.exited).toBe(1);
    const line = fatalLine(proc);
    expect(line).toMatchObject({
      level: 60,
      setting: 'INVENTORY_DATABASE_URL',
      cause: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    expect(line['msg']).toContain(`mysql://inventory:***@127.0.0.1:${port}/inventory`);
    expect(proc.output()).not.toContain('secret');
  });
});
