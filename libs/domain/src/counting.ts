import type { DemandType } from './demand';
import { isUnsegmented, type SegmentKey } from './keys';
import type { LineDemand, PositionKey } from './reservation';
import { resolveSafetyStock, type EffectiveSafetyStock, type SafetyStockRule } from './safety-stock';
import type { SupplyKey, SupplyType } from './supply';

/**
 * What counts toward stock, written once. The read path (availability), the reserve path (stock
 * positions and their hold check), the store's SQL and the test oracles all take it from here.
 */

/** When supply of a type counts toward availability. */
export type SupplyCounting = 'AT_ONCE' | 'FROM_ETA' | 'NEVER';

/**
 * Supply on hand counts at once (it has no ETA); supply on its way counts from its ETA; PLAN is a
 * forecast and never counts. Every type is named, so a new type cannot be added without deciding.
 */
export const SUPPLY_COUNTING: { readonly [T in SupplyType]: SupplyCounting } = Object.freeze({
  ONHAND: 'AT_ONCE',
  INTRANSIT: 'FROM_ETA',
  PO_PLACED: 'FROM_ETA',
  PO_RELEASED: 'FROM_ETA',
  WIP: 'FROM_ETA',
  PLAN: 'NEVER',
});

/** Supply that counts at once is on hand and has no ETA; every other type is due at an ETA (a forecast too). */
export function requiresEta(type: SupplyType): boolean {
  return SUPPLY_COUNTING[type] !== 'AT_ONCE';
}

/** Whether demand of a type reduces availability: PLAN is a forecast and never does. */
export const DEMAND_COUNTING: { readonly [T in DemandType]: boolean } = Object.freeze({
  OPEN_ORDER: true,
  SCHEDULED: true,
  ALLOCATED: true,
  BACKORDER: true,
  PLAN: false,
});

/** Supply types that count as soon as they are recorded. */
export const SUPPLY_COUNTED_AT_ONCE: readonly SupplyType[] = supplyTypesCounted('AT_ONCE');
/** Supply types that count once their ETA has passed. */
export const SUPPLY_COUNTED_FROM_ETA: readonly SupplyType[] = supplyTypesCounted('FROM_ETA');
/** Demand types that reduce availability. */
export const COUNTED_DEMAND_TYPES: readonly DemandType[] = Object.freeze(
  (Object.keys(DEMAND_COUNTING) as DemandType[]).filter((t) => DEMAND_COUNTING[t]),
);

function supplyTypesCounted(counting: SupplyCounting): readonly SupplyType[] {
  return Object.freeze((Object.keys(SUPPLY_COUNTING) as SupplyType[]).filter((t) => SUPPLY_COUNTING[t] === counting));
}

/** Whether a supply position counts toward availability as of a time. */
export function supplyCountsAsOf(key: Pick<SupplyKey, 'supplyType' | 'etaMs'>, asOfMs: number): boolean {
  const counting = SUPPLY_COUNTING[key.supplyType];
  return counting === 'AT_ONCE' || (counting === 'FROM_ETA' && key.etaMs !== null && key.etaMs <= asOfMs);
}

/** The ETA from which a supply position starts to count, for supply that counts only from its ETA. */
export function countsFromEta(key: Pick<SupplyKey, 'supplyType' | 'etaMs'>): number | null {
  return SUPPLY_COUNTING[key.supplyType] === 'FROM_ETA' ? key.etaMs : null;
}

/** Why a supply position does not count as of a time; empty when it does. */
export function supplyNotCountedReason(key: Pick<SupplyKey, 'supplyType' | 'etaMs'>, asOfMs: number): string {
  if (SUPPLY_COUNTING[key.supplyType] === 'NEVER') return `${key.supplyType} supply never counts`;
  return supplyCountsAsOf(key, asOfMs) ? '' : 'arrives after the time asked';
}

/** Whether demand of a type reduces availability. */
export function demandCounts(type: DemandType): boolean {
  return DEMAND_COUNTING[type];
}

/** The states a reservation hold goes through; a hold is created HELD and leaves it once. */
export type HoldState = 'HELD' | 'RELEASED' | 'CONSUMED' | 'EXPIRED';

/** The one state in which a hold takes units, until its expiry. */
export const TAKING_HOLD_STATE: HoldState = 'HELD';

/**
 * A hold takes its units while it is HELD and not past its expiry: an expired hold stops counting at its
 * expiry time, whether or not anyone has released it yet.
 */
export function holdTakes(hold: { readonly state: HoldState; readonly expireMs: number }, nowMs: number): boolean {
  return hold.state === TAKING_HOLD_STATE && nowMs < hold.expireMs;
}

/** The figures availability is computed from, each already counted by the rules above. */
export interface CountedFigures {
  /** Supply that counts as of the time asked. */
  readonly supply: number;
  readonly demand: number;
  /** Units of holds that take. */
  readonly reserved: number;
  /** Safety stock withheld here. */
  readonly safetyStock: number;
}

/** What can still be promised: counted supply less everything it is committed to. Negative when over-committed. */
export function balanceOf(f: CountedFigures): number {
  return f.supply - f.demand - f.reserved - f.safetyStock;
}

/** Availability never goes below zero; what the floor hides is reported as shortage. */
export function availabilityOf(f: CountedFigures): { readonly available: number; readonly shortage: number } {
  const balance = balanceOf(f);
  return { available: Math.max(balance, 0), shortage: Math.max(-balance, 0) };
}

const NO_SAFETY_STOCK: EffectiveSafetyStock = Object.freeze({ quantity: 0, level: 'NONE' });

/** Whether a segment withholds safety stock: it is withheld once, from the unsegmented pool. */
export function withholdsSafetyStock(segment: SegmentKey): boolean {
  return isUnsegmented(segment);
}

/** The safety stock withheld at a node in a segment, from the item's rules there. */
export function safetyStockWithheld(
  segment: SegmentKey,
  rules: readonly SafetyStockRule[],
  nodeId: string,
): EffectiveSafetyStock {
  return withholdsSafetyStock(segment) ? resolveSafetyStock(rules, nodeId) : NO_SAFETY_STOCK;
}

/** A position's running totals (counted supply due, counted demand, held units) and the safety stock rules there. */
export interface PositionTotals {
  readonly supply: number;
  readonly demand: number;
  readonly reserved: number;
  readonly nodeSafetyStock: number | null;
  readonly itemSafetyStock: number | null;
}

/** The safety stock withheld at a position: the node's rule, else the item's, and only in the unsegmented pool. */
export function withheldSafetyStock(key: PositionKey, totals: PositionTotals): number {
  const rules: SafetyStockRule[] = [];
  if (totals.nodeSafetyStock !== null)
    rules.push({ item: key.item, nodeId: key.nodeId, quantity: totals.nodeSafetyStock });
  if (totals.itemSafetyStock !== null) rules.push({ item: key.item, nodeId: '', quantity: totals.itemSafetyStock });
  return safetyStockWithheld(key.segment, rules, key.nodeId).quantity;
}

/** What a position can still promise (negative when it is over-committed); nothing where no position exists. */
export function promisable(key: PositionKey, totals: PositionTotals | undefined): number {
  if (!totals) return 0;
  return balanceOf({
    supply: totals.supply,
    demand: totals.demand,
    reserved: totals.reserved,
    safetyStock: withheldSafetyStock(key, totals),
  });
}

/** The positions lines may draw on: each line's item and segment at each of its candidate nodes. */
export function candidatePositions(demands: readonly LineDemand[]): PositionKey[] {
  return demands.flatMap((d) =>
    d.candidateNodes.map((nodeId) => ({ item: d.line.item, nodeId, segment: d.line.segment })),
  );
}
