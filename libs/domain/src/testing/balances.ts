import { NO_CONSUMPTION_RULES } from '../borrowing';
import { StockBalance, type KeptPosition } from '../stock-balance';

/** A balance where each position (by position key id) can promise the given units; negative is over-committed. */
export function unitsBalance(units: ReadonlyArray<readonly [positionId: string, units: number]>): StockBalance {
  const kept = (n: number): KeptPosition => ({
    supply: Math.max(n, 0),
    demand: Math.max(-n, 0),
    reserved: 0,
    loan: 0,
    nodeSafetyStock: null,
    itemSafetyStock: null,
  });
  return StockBalance.of([], new Map(units.map(([id, n]) => [id, kept(n)])), NO_CONSUMPTION_RULES);
}
