import { HealthCheck } from './health-check';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HealthCheck', () => {
  it('reports only changes: failing once, passing again once', async () => {
    let failing = false;
    const changes: boolean[] = [];
    const check = new HealthCheck(
      async () => (failing ? Promise.reject(new Error('down')) : undefined),
      10,
      (passing) => changes.push(passing),
    );
    await tick(50);
    failing = true;
    await tick(50);
    failing = false;
    await tick(50);
    await check.stop();
    expect(changes).toEqual([false, true]);
  });

  it('counts a check that does not answer within the interval as failed, and stops checking when stopped', async () => {
    let calls = 0;
    const changes: Array<[boolean, string]> = [];
    const check = new HealthCheck(
      () => (calls++, new Promise<void>(() => undefined)),
      20,
      (passing, err) => changes.push([passing, (err as Error).message]),
    );
    await tick(30);
    await check.stop();
    const after = calls;
    await tick(60);
    expect(changes).toEqual([[false, 'no answer within 20 ms']]);
    expect(calls).toBe(after);
  });
});
