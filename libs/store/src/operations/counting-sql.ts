import type { Knex } from 'knex';
import {
  COUNTED_DEMAND_TYPES,
  SUPPLY_COUNTED_AT_ONCE,
  SUPPLY_COUNTED_FROM_ETA,
  TAKING_HOLD_STATE,
} from '@inventory/domain';

/**
 * The domain's counting rule (libs/domain/src/counting.ts) as SQL conditions, built from its lists so that
 * the SQL cannot name other types than the domain does. The property test of the counting rule runs random
 * histories through the SQL and the domain on both databases and requires the same figures.
 */

/** `column IN (values)`; false for no values. */
function isIn(db: Knex, column: string, values: readonly string[]): Knex.Raw {
  if (values.length === 0) return db.raw('1 = 0');
  return db.raw(`?? IN (${values.map(() => '?').join(', ')})`, [column, ...values]);
}

/** True for a supply row that counts as of `asOfMs` (the domain's `supplyCountsAsOf`). */
export function supplyCountsSql(db: Knex, asOfMs: number): Knex.Raw {
  return db.raw('(? OR (? AND ?? <= ?))', [
    isIn(db, 'supply_type', SUPPLY_COUNTED_AT_ONCE),
    isIn(db, 'supply_type', SUPPLY_COUNTED_FROM_ETA),
    'eta_ms',
    asOfMs,
  ]);
}

/** True for a supply row that will count from an ETA after `asOfMs` (the domain's `countsFromEta`). */
export function supplyCountsLaterSql(db: Knex, asOfMs: number): Knex.Raw {
  return db.raw('(? AND ?? > ?)', [isIn(db, 'supply_type', SUPPLY_COUNTED_FROM_ETA), 'eta_ms', asOfMs]);
}

/** Narrows a query of demand rows to the demand types that count (the domain's `demandCounts`). */
export function whereDemandCounts<Q extends Knex.QueryBuilder>(query: Q, column = 'demand_type'): Q {
  return query.whereIn(column, COUNTED_DEMAND_TYPES) as Q;
}

/** Narrows a query of holds to those that take units at `nowMs`: held and not past expiry (the domain's `holdTakes`). */
export function whereHoldTakes<Q extends Knex.QueryBuilder>(query: Q, nowMs: number, alias = ''): Q {
  return query.where(`${alias}state`, TAKING_HOLD_STATE).andWhere(`${alias}expire_ms`, '>', nowMs) as Q;
}

/** Narrows a query of holds to those still held though past expiry: a position counts them until it is recounted. */
export function whereHeldPastExpiry<Q extends Knex.QueryBuilder>(query: Q, nowMs: number): Q {
  return query.where('state', TAKING_HOLD_STATE).andWhere('expire_ms', '<=', nowMs) as Q;
}

/** Narrows a query of holds to those a position's `reserved` sums: every held one, past expiry or not. */
export function whereHeld<Q extends Knex.QueryBuilder>(query: Q): Q {
  return query.where('state', TAKING_HOLD_STATE) as Q;
}
