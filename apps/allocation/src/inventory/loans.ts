import type { Knex } from 'knex';
import {
  isUnsegmented,
  loanOf,
  mayBorrowNow,
  ownOf,
  positionKeyId,
  UNSEGMENTED,
  type ConsumptionRules,
  type PositionKey,
} from '@inventory/domain';
import {
  ensurePositions,
  lockPositions,
  readConsumptionRules,
  readPositions,
  recountPositions,
  shiftLoans,
} from '@inventory/store';

/**
 * Settles the loans of the positions a change moved (supply or demand lines, holds freed or recounted),
 * once the change is written: each segment position's loan follows the domain's `loanOf`, and the pool's
 * position at the same item and node moves by the sum (made if it does not exist yet). Locks the segment
 * positions (which the change has already locked), then the pools. Returns the positions whose loans
 * moved, so that their figures, and those of the segments that share the pool, are announced.
 */
export async function settleLoans(
  trx: Knex.Transaction,
  keys: readonly PositionKey[],
  rules: ConsumptionRules,
): Promise<PositionKey[]> {
  // The pool's own counts move no loan.
  const segmentKeys = keys.filter((k) => !isUnsegmented(k.segment));
  if (segmentKeys.length === 0) return [];
  const kept = await readPositions({ db: trx, keys: segmentKeys });
  const positionIds = segmentKeys.flatMap((k) => kept.get(positionKeyId(k))?.positionId ?? []);
  const moved = (await lockPositions({ trx, positionIds }))
    .map((p) => ({ p, delta: loanOf(ownOf(p), p.loan, mayBorrowNow(rules, p.key.segment)) - p.loan }))
    .filter(({ delta }) => delta !== 0);
  if (moved.length === 0) return [];
  const pools = new Map<string, { key: PositionKey; delta: number }>();
  for (const { p, delta } of moved) {
    const key = { ...p.key, segment: UNSEGMENTED };
    pools.set(positionKeyId(key), { key, delta: (pools.get(positionKeyId(key))?.delta ?? 0) + delta });
  }
  const poolIds = await ensurePositions({ trx, keys: [...pools.values()].map((p) => p.key) });
  await shiftLoans({
    trx,
    loans: [
      ...moved.map(({ p, delta }) => ({ positionId: p.positionId, delta })),
      ...[...pools].map(([id, { delta }]) => ({ positionId: poolIds.get(id)!, delta })),
    ],
  });
  return [...moved.map(({ p }) => p.key), ...[...pools.values()].map((p) => p.key)];
}

/** Recounts positions from their rows (see recountPositions) and settles the loans the recount moves. */
export async function recountAndSettle(trx: Knex.Transaction, positionIds: readonly number[], nowMs: number) {
  const recounted = await recountPositions({ trx, positionIds, nowMs });
  await settleLoans(trx, recounted, await readConsumptionRules({ db: trx }));
}
