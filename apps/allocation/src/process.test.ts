import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { healthV1, reflectionV1 } from '@inventory/contracts';

// The bundle that `npm start` runs; the test target builds it first.
const MAIN = join(__dirname, '../../../dist/apps/allocation/main.js');

function start(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function listeningPort(output: () => string): Promise<number> {
  return waitFor(() => (/"msg":"listening"/.test(output()) ? Number(/"port":(\d+)/.exec(output())?.[1]) : undefined));
}

describe('the allocation process', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'allocation-process-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its SQLite file on first start, serves health, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'fresh', 'inventory.sqlite');
    const proc = start({ INVENTORY_DATABASE_URL: `sqlite:${file}`, INVENTORY_GRPC_ADDRESS: '127.0.0.1:0' });
    const port = await listeningPort(proc.output);
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
    const port = await listeningPort(proc.output);
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
