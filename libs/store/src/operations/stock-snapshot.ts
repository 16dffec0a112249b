import type { ConsumptionRules } from '@inventory/domain';
import type { Database } from '../database';
import { readConsumptionRules } from './consumption-rules';
import { lastStreamSequence, unstampedRowIds } from './outbox';
import { readPositionsWhere, type StockPosition } from './positions';

/** Positions and what the change stream had announced of them, read at one moment. */
export interface StockSnapshot {
  /** Every position (all segments) of the items at the nodes asked for, by position key id. */
  readonly positions: ReadonlyMap<string, StockPosition>;
  readonly rules: ConsumptionRules;
  /** The last stream position given: the positions hold every change announced up to it. */
  readonly lastSequence: number;
  /**
   * The committed outbox rows with no stream position yet: the positions hold their changes too, although
   * the stream will give them positions after `lastSequence`.
   */
  readonly unstampedRowIds: readonly number[];
}

/**
 * Reads positions (as {@link readPositionsWhere}) together with where the change stream stood, in one
 * consistent read: a REPEATABLE READ transaction on MySQL (every read sees the same
 * committed state), one transaction on SQLite's single connection. So the positions hold exactly the changes
 * of the events stamped up to `lastSequence` and of `unstampedRowIds`, and no others.
 */
export function readStockSnapshot(
  db: Database,
  filter: { itemIds?: readonly string[]; nodeIds?: readonly string[] },
): Promise<StockSnapshot> {
  return db.knex.transaction(
    async (trx) => {
      const lastSequence = await lastStreamSequence({ db: trx });
      const unstamped = await unstampedRowIds({ db: trx });
      const positions = await readPositionsWhere({ db: trx, ...filter });
      const rules = await readConsumptionRules({ db: trx });
      return { positions, rules, lastSequence, unstampedRowIds: unstamped };
    },
    db.dialect === 'mysql' ? { isolationLevel: 'repeatable read' } : {},
  );
}
