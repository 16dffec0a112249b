import type { Knex } from 'knex';
import { NO_CONSUMPTION_RULES, type ConsumptionRules, type SegmentBorrowing } from '@inventory/domain';
import { integerOf, jsonOf, type IntegerColumn } from '../tables/columns';

/** A row of `consumption_rule_versions`: one version of the consumption rules. */
interface ConsumptionRulesRow {
  readonly version: IntegerColumn;
  readonly borrowing_enabled: boolean | number;
  readonly segments: string;
  readonly request_id: string;
  readonly create_ms: IntegerColumn;
}

/** A version of the rules, with when it was made. */
export interface ConsumptionRulesVersion {
  readonly rules: ConsumptionRules;
  readonly requestId: string;
  readonly createMs: number;
}

function versionOf(row: ConsumptionRulesRow): ConsumptionRulesVersion {
  return {
    rules: {
      version: integerOf(row.version, 'consumption_rule_versions.version'),
      borrowingEnabled: Boolean(row.borrowing_enabled),
      segments: jsonOf<SegmentBorrowing[]>(row.segments),
    },
    requestId: row.request_id,
    createMs: integerOf(row.create_ms, 'consumption_rule_versions.create_ms'),
  };
}

/** The rules in force: the highest version, or none (version 0) where none were ever set. */
export async function readConsumptionRules({ db }: { db: Knex }): Promise<ConsumptionRules> {
  return consumptionRulesOf(await consumptionRulesQuery(db));
}

/** The query that reads the rules in force, to run with others; {@link consumptionRulesOf} reads its rows. */
export function consumptionRulesQuery(db: Knex): Knex.QueryBuilder {
  return db('consumption_rule_versions').orderBy('version', 'desc').limit(1);
}

export function consumptionRulesOf(rows: readonly unknown[]): ConsumptionRules {
  const row = rows[0] as ConsumptionRulesRow | undefined;
  return row ? versionOf(row).rules : NO_CONSUMPTION_RULES;
}

/** One version of the rules (the highest when `version` is not given); undefined if there is no such version. */
export async function readConsumptionRulesVersion({
  db,
  version,
}: {
  db: Knex;
  version?: number;
}): Promise<ConsumptionRulesVersion | undefined> {
  const query = db('consumption_rule_versions');
  const row: ConsumptionRulesRow | undefined = await (version === undefined
    ? query.orderBy('version', 'desc').first()
    : query.where({ version }).first());
  return row && versionOf(row);
}

/**
 * Stores the next version of the rules (one more than the highest). Two writers that race for the same
 * version collide on the primary key and the loser's transaction is retried.
 */
export async function insertConsumptionRules({
  trx,
  rules,
  requestId,
  nowMs,
}: {
  trx: Knex.Transaction;
  rules: Omit<ConsumptionRules, 'version'>;
  requestId: string;
  nowMs: number;
}): Promise<ConsumptionRules> {
  const current = await readConsumptionRules({ db: trx });
  const next: ConsumptionRules = { ...rules, version: current.version + 1 };
  await trx('consumption_rule_versions').insert({
    version: next.version,
    borrowing_enabled: next.borrowingEnabled,
    segments: JSON.stringify(next.segments),
    request_id: requestId,
    create_ms: nowMs,
  });
  return next;
}
