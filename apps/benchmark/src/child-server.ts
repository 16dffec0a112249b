/**
 * A server run as a child process (the echo server and the real service), so that, as in production, it
 * has its own event loop and the load client's work does not run on the server's thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface ChildServer {
  readonly name: string;
  /** Rejects if the child exits before it is stopped; use it to stop waiting for a child that died. */
  readonly died: Promise<never>;
  /** Each line the child writes to stdout (also echoed to stderr with the child's name). */
  onLine(listener: (line: string) => void): void;
  /** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** CPU seconds (user + system) the child has used so far; undefined where /proc cannot say. */
  cpuSeconds(): number | undefined;
  /** The child's resident set size (VmRSS in /proc/<pid>/status) in bytes; undefined where /proc cannot say. */
  rssBytes(): number | undefined;
  /**
   * Runs a full garbage collection in the child and resolves to its process.memoryUsage() right after it.
   * Only for a child started with `gcHook`; undefined otherwise, or when the child does not answer in time.
   */
  collectGarbage(): Promise<NodeJS.MemoryUsage | undefined>;
}

/** Options of {@link spawnNodeServer}. */
export interface SpawnOptions {
  /**
   * Start the child with --expose-gc and a preloaded hook that, on SIGUSR2, collects garbage and prints
   * {@link GC_DONE} and its memory usage as JSON (for memory measurements; the server's code is unchanged).
   */
  readonly gcHook?: boolean;
}

/** The line the GC hook prints after a collection; the child's process.memoryUsage() as JSON follows. */
const GC_DONE = 'benchmark gc done ';

/** The GC hook, preloaded as an ES module from a data: URL, so it needs no file of its own. */
const GC_HOOK = `process.on('SIGUSR2', () => {
  globalThis.gc();
  process.stdout.write(${JSON.stringify(GC_DONE)} + JSON.stringify(process.memoryUsage()) + '\\n');
});`;

/** How long {@link ChildServer.collectGarbage} waits for the child's answer. */
const GC_TIMEOUT_MS = 10_000;

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

const running = new Set<ChildProcess>();
let guarded = false;

/** Never leave a server behind, whatever ends this process: a normal exit, a crash or Ctrl-C. */
function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping\n`);
      process.exit(130);
    });
  }
}

/** Starts `node --enable-source-maps <args>` with `env` added to this process's environment. */
export function spawnNodeServer(
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): ChildServer {
  guardChildren();
  const hook = options.gcHook ? ['--expose-gc', `--import=data:text/javascript,${encodeURIComponent(GC_HOOK)}`] : [];
  const child = spawn(process.execPath, ['--enable-source-maps', ...hook, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${name}: could not start: ${err.message}`)));
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (!stopping) reject(new Error(`${name} exited unexpectedly (${signal ?? `exit code ${code}`})`));
    });
  });
  died.catch(() => undefined); // Observed by whoever awaits it; never an unhandled rejection.

  const listeners: ((line: string) => void)[] = [];
  // Collections asked for and not answered yet, oldest first (the child answers in order).
  const collecting: ((usage: NodeJS.MemoryUsage | undefined) => void)[] = [];
  listeners.push((line) => {
    if (!line.startsWith(GC_DONE)) return;
    let usage: NodeJS.MemoryUsage | undefined;
    try {
      usage = JSON.parse(line.slice(GC_DONE.length)) as NodeJS.MemoryUsage;
    } catch {
      usage = undefined; // A line cut by other output: the caller falls back to RSS alone.
    }
    collecting.shift()?.(usage);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    process.stderr.write(`[${name}] ${line}\n`);
    listeners.forEach((l) => l(line));
  });
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));

  return {
    name,
    died,
    onLine: (listener) => listeners.push(listener),
    cpuSeconds: () => {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the parenthesised command name.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      } catch {
        return undefined;
      }
    },
    rssBytes: () => {
      try {
        const line = readFileSync(`/proc/${child.pid}/status`, 'utf8')
          .split('\n')
          .find((l) => l.startsWith('VmRSS:'));
        // "VmRSS:     123456 kB"
        return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    collectGarbage: () => {
      if (!options.gcHook || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const answer = (usage: NodeJS.MemoryUsage | undefined) => {
          clearTimeout(timer);
          resolve(usage);
        };
        const timer = setTimeout(() => {
          const waiting = collecting.indexOf(answer);
          if (waiting >= 0) collecting.splice(waiting, 1);
          resolve(undefined);
        }, GC_TIMEOUT_MS);
        collecting.push(answer);
        child.kill('SIGUSR2');
      });
    },
    stop: async (graceMs = 15_000) => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
