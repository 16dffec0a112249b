import type { Knex } from 'knex';

/**
 * Tells listeners in this process that something happened, for example (Database.commits) that a
 * transaction that wrote change events committed, so that the change stream's sequencer stamps them without
 * waiting for its next round. Only a hint (other processes poll), never needed for correctness.
 */
export class Notifier {
  private readonly listeners = new Set<() => void>();
  private notices = 0;

  /** How many notices there have been: pass it to {@link wait} to not miss one that comes meanwhile. */
  get count(): number {
    return this.notices;
  }

  /** Whether anyone listens (or waits) now. */
  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `listener` after each notice; returns the function that stops it. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    this.notices++;
    for (const listener of this.listeners) listener();
  }

  /**
   * Resolves at the next notice, after `ms`, or when `signal` aborts, whichever comes first; at once if
   * there was a notice since {@link count} was `seen`.
   */
  wait(ms: number, signal: AbortSignal, seen = this.notices): Promise<void> {
    if (signal.aborted || seen !== this.notices) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stop = this.listen(done);
      signal.addEventListener('abort', done);
    });
  }
}

/** The transactions (or pipelines' statement builders) that wrote change events. */
const wroteEvents = new WeakSet<Knex>();

/** Notes that `trx` wrote change events, so that its commit notifies (see Database.commits). */
export function markEventsWritten(trx: Knex): void {
  wroteEvents.add(trx);
}

/** Whether {@link markEventsWritten} was called for `trx`. */
export function hasWrittenEvents(trx: Knex): boolean {
  return wroteEvents.has(trx);
}
