import { createLogger } from '@inventory/runtime';
import { migrateToLatest, openDatabase, parseDatabaseUrl, type Database } from '@inventory/store';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '@inventory/store/testing';
import { PeriodicJob } from './periodic-job';

const INTERVAL_MS = 40;

interface Round {
  readonly replica: number;
  readonly startMs: number;
  endMs?: number;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A log the test can read: the job's logger writes JSON lines here. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('jobs-test', 'info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describeEachDatabase('periodic job', (dialect) => {
  let test: TestDatabase;
  // Each replica has its own connection pool, as separate processes would.
  const pools: Database[] = [];
  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    await migrateToLatest(test.db);
  });
  afterAll(async () => {
    await Promise.all(pools.map((db) => db.knex.destroy()));
    await test.drop();
  });

  function replica(name: string, round: () => Promise<unknown>, logger = capturedLog().logger): PeriodicJob<unknown> {
    const db = openDatabase(parseDatabaseUrl(test.url), { poolSize: 2 });
    pools.push(db);
    return new PeriodicJob({ name, intervalMs: INTERVAL_MS, db, clock: () => Date.now(), logger, round });
  }

  /** A round that records itself, takes `ms`, and waits for `gate` if given. */
  function recording(rounds: Round[], n: number, ms = 5, gate?: () => Promise<void>): () => Promise<number> {
    return async () => {
      const round: Round = { replica: n, startMs: Date.now() };
      rounds.push(round);
      await sleep(ms);
      await gate?.();
      round.endMs = Date.now();
      return n;
    };
  }

  it('runs each round on exactly one of many replicas started at once, one round at a time', async () => {
    const rounds: Round[] = [];
    const replicas = Array.from({ length: 5 }, (_, n) => replica('one-of-many', recording(rounds, n, 15)));
    replicas.forEach((job) => job.start());
    await waitFor(() => rounds.filter((r) => r.endMs !== undefined).length >= 5);
    await Promise.all(replicas.map((job) => job.stop()));

    expect(new Set(rounds.map((r) => r.replica)).size).toBe(1);
    for (let i = 1; i < rounds.length; i++) expect(rounds[i]!.startMs).toBeGreaterThanOrEqual(rounds[i - 1]!.endMs!);
  });

  it('logs a failing round and still runs the next one', async () => {
    const { logger, lines } = capturedLog();
    let calls = 0;
    const job = replica(
      'fails-once',
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('first round fails');
      },
      logger,
    );
    job.start();
    await waitFor(() => calls >= 2);
    await job.stop();

    const failures = lines.filter((line) => line['msg'] === 'periodic job round failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 50, job: 'fails-once', err: { message: 'first round fails' } });
  });

  it('stops only after the running round, then gives the lease up so another replica takes over', async () => {
    const rounds: Round[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = replica(
      'hand-over',
      recording(rounds, 0, 0, () => gate),
    );
    first.start();
    await waitFor(() => rounds.length === 1);

    const second = replica('hand-over', recording(rounds, 1));
    second.start();
    let stopped = false;
    const stopping = first.stop().then(() => (stopped = true));
    await sleep(5 * INTERVAL_MS);
    // The first replica's round is still running: it has not stopped, and the second could not take the lease.
    expect(stopped).toBe(false);
    expect(rounds.map((r) => r.replica)).toEqual([0]);

    open();
    await stopping;
    await waitFor(() => rounds.some((r) => r.replica === 1));
    await second.stop();
    expect(rounds[0]!.replica).toBe(0);
    expect(rounds.slice(1).every((r) => r.replica === 1 && r.startMs >= rounds[0]!.endMs!)).toBe(true);
  });

  it('runs a round now on request, and none while another replica holds the lease', async () => {
    const holder = replica('on-request', async () => 'ran');
    const other = replica('on-request', async () => 'ran too');
    expect(await holder.runOnce()).toBe('ran');
    expect(await other.runOnce()).toBeUndefined();
    await holder.stop();
    expect(await other.runOnce()).toBe('ran too');
    await other.stop();
  });
});
