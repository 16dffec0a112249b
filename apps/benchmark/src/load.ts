/**
 * The closed-loop load driver: N callers, each making one call after the other, so the offered load is
 * exactly what the system under test can take at that concurrency (no queue builds up in the client).
 */
import type { DatabasePerCall } from './statement-counts';

/** One call. `caller` is 0..callers-1, `sequence` counts that caller's calls; throws when the call fails. */
export type Attempt = (caller: number, sequence: number) => Promise<void>;

/** Names a failure for the report, e.g. "UNIMPLEMENTED" or "FAILED_PRECONDITION/INSUFFICIENT_AVAILABILITY". */
export type DescribeFailure = (error: unknown) => string;

export interface LoadPlan {
  readonly callers: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export interface LoadResult {
  readonly callers: number;
  /** Length of the measured window. */
  readonly seconds: number;
  /** Successful calls that completed inside the measured window. */
  readonly successes: number;
  /** Failed calls that completed inside the measured window, by kind. */
  readonly failures: Readonly<Record<string, number>>;
  readonly failureCount: number;
  /** Successes per second of the measured window. */
  readonly perSecond: number;
  /** Latency of the measured successes, in milliseconds; NaN when there were none. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Every success of the run, warm-up and the calls still in flight at the end included: what the database must show. */
  readonly totalSuccesses: number;
  readonly totalFailures: number;
  /**
   * CPU time of the server process over the measured window per measured success, in milliseconds, where
   * the target is a child process (far steadier from run to run than throughput on a shared machine).
   */
  readonly serverCpuMsPerCall?: number;
  /** Statements the database ran over the measured window per measured success, where the target is the service. */
  readonly databasePerCall?: DatabasePerCall;
}

const NS_PER_MS = 1_000_000;

/**
 * Runs `plan.callers` callers for the warm-up and then the measured window. A call is measured when it
 * completes inside the window; callers start no call after the window ends and the calls in flight are
 * awaited, so every success is known when this resolves.
 */
export async function runClosedLoop(
  plan: LoadPlan,
  attempt: Attempt,
  describeFailure: DescribeFailure,
): Promise<LoadResult> {
  const started = process.hrtime.bigint();
  const measureFrom = started + BigInt(Math.round(plan.warmupSeconds * 1000)) * BigInt(NS_PER_MS);
  const measureUntil = measureFrom + BigInt(Math.round(plan.seconds * 1000)) * BigInt(NS_PER_MS);

  const latenciesNs: number[] = [];
  const failures: Record<string, number> = {};
  let successes = 0;
  let failureCount = 0;
  let totalSuccesses = 0;
  let totalFailures = 0;

  const caller = async (index: number): Promise<void> => {
    for (let sequence = 0; ; sequence++) {
      const begin = process.hrtime.bigint();
      if (begin >= measureUntil) return;
      let failure: string | undefined;
      try {
        await attempt(index, sequence);
      } catch (err) {
        failure = describeFailure(err);
      }
      const end = process.hrtime.bigint();
      const measured = end >= measureFrom && end < measureUntil;
      if (failure === undefined) {
        totalSuccesses++;
        if (measured) {
          successes++;
          latenciesNs.push(Number(end - begin));
        }
      } else {
        totalFailures++;
        if (measured) {
          failureCount++;
          failures[failure] = (failures[failure] ?? 0) + 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: plan.callers }, (_, i) => caller(i)));

  const sorted = Float64Array.from(latenciesNs).sort();
  return {
    callers: plan.callers,
    seconds: plan.seconds,
    successes,
    failures,
    failureCount,
    perSecond: successes / plan.seconds,
    p50Ms: percentile(sorted, 0.5) / NS_PER_MS,
    p99Ms: percentile(sorted, 0.99) / NS_PER_MS,
    maxMs: (sorted.length > 0 ? sorted[sorted.length - 1] : NaN) / NS_PER_MS,
    totalSuccesses,
    totalFailures,
  };
}

/** Nearest-rank percentile of ascending values: the smallest value with at least `p` of all values at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}
