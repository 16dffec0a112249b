/**
 * A check run every `intervalMs`, one at a time, that reports only changes: `onChange(false, err)` when it
 * starts failing, `onChange(true)` when it passes again. A check still running after `intervalMs` counts as
 * failed (an unreachable database makes a query wait far longer than a health probe should).
 */
export class HealthCheck {
  private passing = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly check: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onChange: (passing: boolean, err?: unknown) => void,
  ) {
    this.running = this.runOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async runOnce(): Promise<void> {
    let failure: unknown;
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.check(),
        new Promise(
          (_, reject) =>
            (deadline = setTimeout(() => reject(new Error(`no answer within ${this.intervalMs} ms`)), this.intervalMs)),
        ),
      ]);
    } catch (err) {
      failure = err ?? new Error('health check failed');
    } finally {
      clearTimeout(deadline);
    }
    if (this.stopped) return;
    const passing = failure === undefined;
    if (passing !== this.passing) {
      this.passing = passing;
      this.onChange(passing, failure);
    }
    this.timer = setTimeout(() => (this.running = this.runOnce()), this.intervalMs);
    this.timer.unref();
  }
}
