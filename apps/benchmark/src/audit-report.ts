import type { AuditMeasurement } from './audit';

interface Goal {
  readonly name: string;
  readonly status: 'PASS' | 'MISS' | 'SKIP';
  readonly detail: string;
}

const rate = (perSecond: number) => (Number.isFinite(perSecond) ? Math.round(perSecond).toLocaleString('en-US') : '-');
const ratio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');

/**
 * The audit app keeps up: it stores at least as many records per second as the allocation app commits
 * supply changes at full load (each measured with the machine to itself), and, sharing the machine at half
 * that rate, stores as fast as it is fed.
 */
export function auditGoals(audit: AuditMeasurement | undefined): Goal[] {
  if (!audit) return [];
  const capacity = audit.catchUpPerSecond / audit.commitPerSecond;
  const live = audit.liveIngestPerSecond / audit.liveCommitPerSecond;
  return [
    {
      name: 'audit: ingest >= 1 x the commit rate',
      status: capacity >= 1 ? 'PASS' : 'MISS',
      detail: `${rate(audit.catchUpPerSecond)} records/s vs ${rate(audit.commitPerSecond)} supply changes/s (${ratio(capacity)})`,
    },
    {
      name: 'audit: keeps pace with paced commits',
      // Sampled every 100 ms: a window edge can cut a batch in two, so 2 % either way is the same rate.
      status: live >= 0.98 ? 'PASS' : 'MISS',
      detail: `${rate(audit.liveIngestPerSecond)} records/s vs ${rate(audit.liveCommitPerSecond)} supply changes/s (${ratio(live)}), at most ${audit.maxLagRecords} records behind, all stored ${audit.drainMs} ms after the last commit`,
    },
  ];
}

export function auditMarkdown(audit: AuditMeasurement): string[] {
  return [
    '| Phase | Allocation app commits (supply changes/s) | Audit app stores (records/s) | Ratio | Notes |',
    '|---|--:|--:|--:|---|',
    `| full load, then catch-up | ${rate(audit.commitPerSecond)} | ${rate(audit.catchUpPerSecond)} | ${ratio(audit.catchUpPerSecond / audit.commitPerSecond)} | the audit app stopped while ${audit.callers} callers committed; started afterwards, it stored the ${audit.backlogRecords} records at this rate, its start-up included |`,
    `| paced, both running | ${rate(audit.liveCommitPerSecond)} | ${rate(audit.liveIngestPerSecond)} | ${ratio(audit.liveIngestPerSecond / audit.liveCommitPerSecond)} | commits paced at half the full rate; at most ${audit.maxLagRecords} records behind; all stored ${audit.drainMs} ms after the last commit |`,
    '',
    `- Each AdjustSupply carries ${audit.linesPerCall} lines (one supply change each) on random items of 1,000 at one node; ${audit.seconds} s measured per phase. Both apps run as child processes on MariaDB databases of their own; the audit app stores up to 1000 records per transaction (AUDIT_BATCH_SIZE).`,
    '- The commit rate at full load is the baseline of the same run. Each rate of the first row is measured with the machine to the process measured; the second row shows the audit app keeping pace while it shares the machine with the allocation app, MariaDB and the load.',
  ];
}
