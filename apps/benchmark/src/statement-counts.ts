/**
 * What the database did per reservation: MariaDB's global statement counters (Com_*), read at the start
 * and the end of the measured window. They count every client of the server, so they are only meaningful
 * while the service is the only one at work (as in a benchmark run on a quiet machine).
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';

const COUNTERS = {
  selects: 'Com_select',
  inserts: 'Com_insert',
  updates: 'Com_update',
  deletes: 'Com_delete',
  begins: 'Com_begin',
  commits: 'Com_commit',
  rollbacks: 'Com_rollback',
} as const;

export type StatementCounts = Record<keyof typeof COUNTERS, number>;

/** Per measured reservation: statements by kind, and reservations per committed transaction. */
export interface DatabasePerCall {
  readonly statements: number;
  readonly selects: number;
  readonly inserts: number;
  readonly updates: number;
  /** Transactions rolled back (a refused check-and-hold is retried from a fresh read) per reservation. */
  readonly rollbacks: number;
  /** Reservations per COMMIT: how many calls one transaction decided, on average. */
  readonly callsPerCommit: number;
}

interface StatusRow extends RowDataPacket {
  Variable_name: string;
  Value: string;
}

export async function readStatementCounts(conn: Connection): Promise<StatementCounts> {
  const [rows] = await conn.query<StatusRow[]>('SHOW GLOBAL STATUS WHERE Variable_name IN (?)', [
    Object.values(COUNTERS),
  ]);
  const value = (name: string) => Number(rows.find((r) => r.Variable_name.toLowerCase() === name.toLowerCase())?.Value);
  return Object.fromEntries(Object.entries(COUNTERS).map(([kind, name]) => [kind, value(name)])) as StatementCounts;
}

export function statementsPerCall(from: StatementCounts, until: StatementCounts, calls: number): DatabasePerCall {
  const d = (kind: keyof StatementCounts) => (until[kind] - from[kind]) / calls;
  const commits = until.commits - from.commits;
  return {
    statements: (Object.keys(COUNTERS) as Array<keyof StatementCounts>).reduce((sum, kind) => sum + d(kind), 0),
    selects: d('selects'),
    inserts: d('inserts'),
    updates: d('updates'),
    rollbacks: d('rollbacks'),
    callsPerCommit: commits > 0 ? calls / commits : NaN,
  };
}
