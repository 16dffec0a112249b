import type { Knex } from 'knex';
import type { Database } from './database';
import { inTransactionOnce, retryingConflicts, retryingLostConnection } from './transaction';

/** One statement of a pipeline, and what its result is wanted for. */
export type Statement =
  | { readonly select: Knex.QueryBuilder }
  | { readonly update: Knex.QueryBuilder }
  | { readonly insert: Knex.QueryBuilder };

/** Rows for a select, the affected-row count for an update, nothing for an insert. */
export type StatementResult = Array<Record<string, unknown>> | number | undefined;

/** A transaction that sends its statements in as few round trips as the database allows. */
export interface PipelinedTransaction {
  /** Builds statements (they run only when passed to `run` or `commitWith`). */
  readonly db: Knex;
  /** Runs statements; the first call also begins the transaction. */
  run(statements: readonly Statement[]): Promise<StatementResult[]>;
  /** Runs the last statements and commits: if any of them fails, nothing is committed. */
  commitWith(statements: readonly Statement[]): Promise<StatementResult[]>;
}

/**
 * Runs `work` in one transaction whose statements travel in batches: on MySQL, each `run` is one round
 * trip (the first one carries START TRANSACTION), and `commitWith` sends its statements and the COMMIT
 * together, so a row locked by its last statements is released as soon as the server has run them,
 * without waiting for a reply to reach the client first. A statement that must be able to stop the commit
 * therefore has to fail (raise an error), not merely change no row. On SQLite, which is in-process,
 * statements run one after another in an ordinary transaction. Values are always bound parameters.
 *
 * Work that returns without `commitWith` is rolled back. Conflicts a retry resolves (deadlocks, lock
 * timeouts, duplicate first inserts) rerun `work` from the start, and so does a connection lost before the
 * transaction began (see retryingLostConnection).
 */
export function pipelinedTransaction<T>(db: Database, work: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
  if (db.dialect !== 'mysql') {
    return retryingConflicts(() =>
      retryingLostConnection((started) =>
        inTransactionOnce(db, (trx) => {
          started();
          const run = (statements: readonly Statement[]) => runOneByOne(statements);
          return work({ db: trx, run, commitWith: run });
        }),
      ),
    );
  }
  // A lost connection is retried on a fresh one while no round trip of `work` has come back and no COMMIT
  // has been sent: until then the server has decided nothing for `work`, and rolls back whatever it ran.
  return retryingConflicts(() =>
    retryingLostConnection(async (started) => {
      const connection: unknown = await db.knex.client.acquireConnection();
      let begun = false;
      let committed = false;
      const send = async (statements: readonly Statement[], prefix: string[], suffix: string[]) => {
        const compiled = statements.map((s) => builderOf(s).toSQL().toNative());
        const sql = [...prefix, ...compiled.map((c) => c.sql), ...suffix].join(';\n');
        if (suffix.length > 0) started();
        const [raw] = (await db.knex
          .raw(
            sql,
            compiled.flatMap((c) => c.bindings as Knex.Value[]),
          )
          .connection(connection)) as [unknown];
        started();
        const results = (prefix.length + compiled.length + suffix.length === 1 ? [raw] : (raw as unknown[])).slice(
          prefix.length,
        );
        return statements.map((s, i) => resultOf(s, results[i]));
      };
      const begin = () => (begun ? [] : ((begun = true), ['START TRANSACTION']));
      try {
        const result = await work({
          db: db.knex,
          run: (statements) => send(statements, begin(), []),
          commitWith: async (statements) => {
            const results = await send(statements, begin(), ['COMMIT']);
            committed = true;
            return results;
          },
        });
        if (begun && !committed) await db.knex.raw('ROLLBACK').connection(connection);
        if (committed) db.commits.notify();
        return result;
      } catch (err) {
        if (begun && !committed)
          await db.knex
            .raw('ROLLBACK')
            .connection(connection)
            .catch(() => undefined);
        throw err;
      } finally {
        await db.knex.client.releaseConnection(connection);
      }
    }),
  );
}

function builderOf(s: Statement): Knex.QueryBuilder {
  return 'select' in s ? s.select : 'update' in s ? s.update : s.insert;
}

function resultOf(s: Statement, result: unknown): StatementResult {
  if ('select' in s) return result as Array<Record<string, unknown>>;
  if ('insert' in s) return undefined;
  return typeof result === 'number' ? result : Number((result as { affectedRows: number }).affectedRows);
}

async function runOneByOne(statements: readonly Statement[]): Promise<StatementResult[]> {
  const results: StatementResult[] = [];
  for (const s of statements) results.push(resultOf(s, await builderOf(s)));
  return results;
}
