import type { Knex } from 'knex';
import {
  loanOf,
  NO_CONSUMPTION_RULES,
  ownOf,
  positionKeyId,
  UNSEGMENTED,
  type ConsumptionRules,
  type PositionKey,
  type SegmentBorrowing,
  type SegmentKey,
} from '@inventory/domain';
import { integerOf, jsonOf, type IntegerColumn } from '../tables/columns';
import {
  ITEM_NODE_COLUMNS,
  POSITION_KEY_COLUMNS,
  positionKeyOf,
  type PositionKeyColumns,
} from '../tables/position-key';
import { chunks } from './chunks';
import { ensurePositions } from './positions';

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

/**
 * Versions of the rules older than `beforeVersion`, newest first, at most `limit` of them (version 0, the
 * rules before any were set, is not stored and not listed).
 */
export async function listConsumptionRuleVersions({
  db,
  beforeVersion,
  limit,
}: {
  db: Knex;
  beforeVersion: number;
  limit: number;
}): Promise<ConsumptionRulesVersion[]> {
  const rows: ConsumptionRulesRow[] = await db('consumption_rule_versions')
    .where('version', '<', beforeVersion)
    .orderBy('version', 'desc')
    .limit(limit);
  return rows.map(versionOf);
}

/** A stock_positions row with what settling its loan needs. */
interface SettledPositionRow extends PositionKeyColumns {
  readonly position_id: number;
  readonly supply: IntegerColumn;
  readonly demand: IntegerColumn;
  readonly reserved: IntegerColumn;
  readonly loan: IntegerColumn;
}

/**
 * Settles the loans of segments that may borrow from now on and could not before (the domain's
 * `newBorrowers`). Until now nothing counted their shortfalls as loans, so each of their positions is
 * settled at the loan a borrowing segment has (the domain's `loanOf`: what its commitments exceed its
 * counted supply by, from its running totals), and the pool's position at the same item and node adds
 * what its segments' loans changed by (created where there is none yet), so that it keeps the sum of
 * them. Returns how many positions it changed.
 *
 * Locks, in one statement and in position_id order as every writer of several positions does: every
 * position of those segments and the pool's positions at their item-nodes, so that no delta of a
 * concurrent writer lands between reading the totals and writing the loans. A pool position it has to
 * create is a new row; a concurrent first insert of it fails on the unique key and one transaction retries.
 */
export async function settleLoansOfNewBorrowers({
  trx,
  segments,
}: {
  trx: Knex.Transaction;
  segments: readonly SegmentKey[];
}): Promise<number> {
  if (segments.length === 0) return 0;
  const rows = await lockBorrowersAndPools(trx, segments);
  const pools = new Map<string, { positionId: number; loan: number }>();
  const lent = new Map<string, { pool: PositionKey; change: number }>();
  const loans = new Map<number, number>();
  for (const row of rows) {
    const key = positionKeyOf(row);
    const loan = integerOf(row.loan, 'stock_positions.loan');
    const poolKey: PositionKey = { ...key, segment: UNSEGMENTED };
    if (row.segment_type === '' && row.segment === '') {
      pools.set(positionKeyId(poolKey), { positionId: row.position_id, loan });
      continue;
    }
    const counts = {
      supply: integerOf(row.supply, 'stock_positions.supply'),
      demand: integerOf(row.demand, 'stock_positions.demand'),
      reserved: integerOf(row.reserved, 'stock_positions.reserved'),
    };
    const settled = loanOf(ownOf(counts), loan, true);
    if (settled === loan) continue;
    loans.set(row.position_id, settled);
    const at = lent.get(positionKeyId(poolKey)) ?? { pool: poolKey, change: 0 };
    lent.set(positionKeyId(poolKey), { pool: poolKey, change: at.change + settled - loan });
  }
  // A pool position that was not there when the rows were locked is added to, not overwritten: another
  // transaction may have created it since.
  const added = new Map<number, number>();
  const missing = [...lent.entries()].filter(([id, l]) => l.change !== 0 && !pools.has(id)).map(([, l]) => l.pool);
  const created = missing.length > 0 ? await ensurePositions({ trx, keys: missing }) : new Map<string, number>();
  for (const [id, { change }] of lent) {
    if (change === 0) continue;
    const pool = pools.get(id);
    if (pool) loans.set(pool.positionId, pool.loan + change);
    else added.set(created.get(id)!, change);
  }
  await updateLoans(trx, loans, 'set');
  await updateLoans(trx, added, 'add');
  return loans.size + added.size;
}

function lockBorrowersAndPools(trx: Knex.Transaction, segments: readonly SegmentKey[]): Promise<SettledPositionRow[]> {
  const pairs = segments.map((s) => [s.segmentType, s.segment]);
  const sameItemNode = ITEM_NODE_COLUMNS.map((c) => `s.${c} = p.${c}`).join(' and ');
  return trx('stock_positions as p')
    .select(
      'p.position_id',
      'p.supply',
      'p.demand',
      'p.reserved',
      'p.loan',
      ...POSITION_KEY_COLUMNS.map((c) => `p.${c}`),
    )
    .whereIn(['p.segment_type', 'p.segment'], pairs)
    .orWhere((pool) =>
      pool
        .where({ 'p.segment_type': '', 'p.segment': '' })
        .whereExists(
          trx('stock_positions as s')
            .select(trx.raw('1'))
            .whereRaw(sameItemNode)
            .whereIn(['s.segment_type', 's.segment'], pairs),
        ),
    )
    .orderBy('p.position_id')
    .forUpdate();
}

/** Sets positions' loans to the values given, or adds them to the loans, in position_id order. */
async function updateLoans(
  trx: Knex.Transaction,
  loans: ReadonlyMap<number, number>,
  how: 'set' | 'add',
): Promise<void> {
  const value = how === 'set' ? '?' : 'loan + ?';
  const sorted = [...loans].sort(([a], [b]) => a - b);
  for (const chunk of chunks(sorted)) {
    await trx('stock_positions')
      .whereIn(
        'position_id',
        chunk.map(([id]) => id),
      )
      .update({
        loan: trx.raw(`CASE position_id ${chunk.map(() => `WHEN ? THEN ${value}`).join(' ')} END`, chunk.flat()),
      });
  }
}
