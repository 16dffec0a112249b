import type { Knex } from 'knex';

/** One statement of a pipeline, and what its result is wanted for. */
export type Statement =
  | { readonly select: Knex.QueryBuilder }
  | { readonly update: Knex.QueryBuilder }
  | { readonly insert: Knex.QueryBuilder };

/** Rows for a select, the affected-row count for an update, nothing for an insert. */
export type StatementResult = Array<Record<string, unknown>> | number | undefined;

/**
 * Runs statements in order inside the caller's transaction. On MySQL they go to the server in one round
 * trip (the pool's connections allow multiple statements); a failing statement fails the call and the
 * statements after it do not run. On SQLite, which is in-process, they simply run one after another.
 * Values travel as bound parameters in both cases, never spliced into the SQL.
 */
export async function pipeline(trx: Knex.Transaction, statements: readonly Statement[]): Promise<StatementResult[]> {
  const builders = statements.map((s) => ('select' in s ? s.select : 'update' in s ? s.update : s.insert));
  if (trx.client.config.client !== 'mysql2') {
    const results: StatementResult[] = [];
    for (const [i, s] of statements.entries()) {
      const result: unknown = await builders[i];
      results.push('select' in s ? (result as Array<Record<string, unknown>>) : 'update' in s ? Number(result) : undefined);
    }
    return results;
  }
  if (statements.length === 0) return [];
  const compiled = builders.map((b) => b.toSQL().toNative());
  const [raw] = (await trx.raw(compiled.map((c) => c.sql).join(';\n'), compiled.flatMap((c) => c.bindings as Knex.Value[]))) as [unknown];
  const results = (statements.length === 1 ? [raw] : raw) as unknown[];
  return statements.map((s, i) => {
    const result = results[i];
    if ('select' in s) return result as Array<Record<string, unknown>>;
    return 'update' in s ? Number((result as { affectedRows: number }).affectedRows) : undefined;
  });
}
