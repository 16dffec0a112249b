/** Lets a test wait for what a stream receives. */
export class Arrivals {
  private waiters: Array<() => void> = [];

  constructor(
    /** Settles when the stream ends: with its error, or undefined for OK. */
    private readonly ended: Promise<Error | undefined>,
  ) {}

  /** Call on every message. */
  arrived(): void {
    this.waiters.forEach((wake) => wake());
  }

  /**
   * Resolves once `check` holds (checked after every message and every 200 ms); rejects if the stream ends
   * first, or after `timeoutMs` with `progress()` in the message.
   */
  async until(check: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const woken = new Promise<void>((resolve) => this.waiters.push(resolve));
      const outcome = await Promise.race([
        woken.then(() => 'data' as const),
        this.ended.then((err) => err ?? new Error('the stream ended')),
        new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), 200)),
      ]);
      this.waiters = [];
      if (outcome instanceof Error) throw outcome;
      if (Date.now() > deadline) throw new Error(`timed out: ${progress()}`);
    }
  }
}
