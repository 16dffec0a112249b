/**
 * Random histories of one item at one node (supply, demand, safety stock, reservations, time passing) and a
 * model of what they leave behind, for the property test of the counting rule. The model keeps only rows;
 * what counts is decided by the domain's rule, the same one the service is meant to apply.
 */
import fc from 'fast-check';
import {
  decideAdjust,
  decideSync,
  demandCounts,
  holdTakes,
  itemKey,
  NO_CONSUMPTION_RULES,
  safetyStockWithheld,
  UNSEGMENTED,
  DEMAND_TYPES,
  SUPPLY_TYPES,
  requiresEta,
  type DemandType,
  type HoldState,
  type NodeAvailabilityInputs,
  type PositionState,
  type SafetyStockRule,
  type Supply,
  type SupplyDecision,
  type SupplyType,
} from '@inventory/domain';

/** ETAs and expiries fall on ticks after the history's start, so that time can be moved exactly onto them. */
export const TICK_MS = 10_000;
export const LAST_TICK = 3;
export const NODE_ID = 'N1';
export const ORDER_REFERENCES = ['', 'ORDER-1'] as const;

export type Step =
  | {
      readonly kind: 'syncSupply';
      readonly supplyType: SupplyType;
      readonly etaTick: number;
      readonly quantity: number;
    }
  | { readonly kind: 'adjustSupply'; readonly supplyType: SupplyType; readonly etaTick: number; readonly delta: number }
  | { readonly kind: 'syncDemand'; readonly demandType: DemandType; readonly order: number; readonly quantity: number }
  | { readonly kind: 'adjustDemand'; readonly demandType: DemandType; readonly order: number; readonly delta: number }
  | { readonly kind: 'setSafetyStock'; readonly atNode: boolean; readonly quantity: number | null }
  | { readonly kind: 'reserve'; readonly quantity: number; readonly ttlTicks: number }
  | { readonly kind: 'extend'; readonly which: number; readonly ttlTicks: number }
  | { readonly kind: 'changeQuantity'; readonly which: number; readonly quantity: number }
  | { readonly kind: 'release'; readonly which: number }
  /** Consumption needs an order reference: it uses the last one. */
  | { readonly kind: 'consume'; readonly which: number; readonly quantity: number; readonly demandType: DemandType }
  | { readonly kind: 'sweep' }
  /** Moves the clock exactly onto a tick (an ETA or an expiry), or a few milliseconds on. */
  | { readonly kind: 'advance'; readonly toTick: number | null; readonly byMs: number };

const supplyType = fc.constantFrom(...SUPPLY_TYPES);
const demandType = fc.constantFrom(...DEMAND_TYPES);
const countedDemandType = fc.constantFrom(...DEMAND_TYPES.filter(demandCounts));
const tick = fc.integer({ min: -1, max: LAST_TICK });
const order = fc.integer({ min: 0, max: ORDER_REFERENCES.length - 1 });
const which = fc.nat(5);
/** Mostly exactly on a tick, where `<` and `<=` part. */
const onOrJustAfter = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 },
);
const nonZero = (max: number) => fc.integer({ min: -max, max }).filter((d) => d !== 0);

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('syncSupply' as const),
      supplyType,
      etaTick: tick,
      quantity: fc.integer({ min: 0, max: 20 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('adjustSupply' as const), supplyType, etaTick: tick, delta: nonZero(8) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('syncDemand' as const),
      demandType,
      order,
      quantity: fc.integer({ min: 0, max: 8 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('adjustDemand' as const), demandType, order, delta: nonZero(4) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('setSafetyStock' as const),
      atNode: fc.boolean(),
      quantity: fc.option(fc.integer({ min: 0, max: 5 })),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      quantity: fc.integer({ min: 1, max: 6 }),
      ttlTicks: fc.integer({ min: 1, max: 2 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('extend' as const), which, ttlTicks: fc.integer({ min: 1, max: 2 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('changeQuantity' as const),
      which,
      quantity: fc.integer({ min: 1, max: 8 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('release' as const), which }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      which,
      quantity: fc.integer({ min: 0, max: 4 }),
      demandType: countedDemandType,
    }),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'sweep' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      toTick: fc.option(fc.integer({ min: 0, max: LAST_TICK }), { freq: 4 }),
      byMs: onOrJustAfter,
    }),
    weight: 4,
  },
);

/** A history: mostly starting with stock on hand, so that reservations have something to take. */
export const historyArbitrary: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.option(
      fc.record({
        kind: fc.constant('syncSupply' as const),
        supplyType: fc.constant('ONHAND' as const),
        etaTick: fc.constant(0),
        quantity: fc.integer({ min: 1, max: 20 }),
      }),
      { freq: 8 },
    ),
    fc.array(stepArbitrary, { minLength: 1, maxLength: 6 }),
  )
  .map(([stock, steps]) => (stock ? [stock, ...steps] : steps));

interface Row extends PositionState {
  readonly key: string;
}

export interface ModelReservation {
  readonly reservationId: string;
  state: 'ACTIVE' | 'RELEASED' | 'CONSUMED' | 'EXPIRED';
  held: number;
  holdState: HoldState;
  expireMs: number;
}

/** What a history has left: the rows, as a source of truth independent of the service. */
export class HistoryModel {
  readonly supply = new Map<string, Row & { supplyType: SupplyType; etaMs: number | null }>();
  readonly demand = new Map<string, Row & { demandType: DemandType }>();
  readonly safetyStock = new Map<string, number>();
  readonly reservations: ModelReservation[] = [];

  constructor(
    readonly itemId: string,
    readonly startMs: number,
  ) {}

  etaOf(type: SupplyType, etaTick: number): number | null {
    return requiresEta(type) ? this.startMs + etaTick * TICK_MS : null;
  }

  syncSupply(type: SupplyType, etaMs: number | null, quantity: number, nowMs: number): void {
    const key = `${type}:${etaMs}`;
    const row = this.supply.get(key) ?? { key, supplyType: type, etaMs, quantity: 0, lastSyncMs: null };
    this.supply.set(key, after(row, decideSync(row, quantity, nowMs, 0)));
  }

  adjustSupply(type: SupplyType, etaMs: number | null, delta: number, nowMs: number): void {
    const key = `${type}:${etaMs}`;
    const row = this.supply.get(key) ?? { key, supplyType: type, etaMs, quantity: 0, lastSyncMs: null };
    this.supply.set(key, after(row, decideAdjust(row, delta, nowMs)));
  }

  syncDemand(type: DemandType, order: string, quantity: number, nowMs: number): void {
    const key = `${type}:${order}`;
    const row = this.demand.get(key) ?? { key, demandType: type, quantity: 0, lastSyncMs: null };
    this.demand.set(key, after(row, decideSync(row, quantity, nowMs, 0)));
  }

  adjustDemand(type: DemandType, order: string, delta: number, nowMs: number): void {
    const key = `${type}:${order}`;
    const row = this.demand.get(key) ?? { key, demandType: type, quantity: 0, lastSyncMs: null };
    this.demand.set(key, after(row, decideAdjust(row, delta, nowMs)));
  }

  /** The reservation a step names, if there is any. */
  pick(which: number): ModelReservation | undefined {
    return this.reservations.length === 0 ? undefined : this.reservations[which % this.reservations.length];
  }

  hasRows(): boolean {
    return this.supply.size > 0 || this.demand.size > 0 || this.reservations.length > 0;
  }

  /** The node's availability inputs, counted by the domain's rule as of `nowMs`. */
  inputs(nowMs: number): NodeAvailabilityInputs {
    const item = itemKey(this.itemId);
    const supplies: Supply[] = [...this.supply.values()].map((r) => ({
      key: { item, nodeId: NODE_ID, segment: UNSEGMENTED, supplyType: r.supplyType, etaMs: r.etaMs },
      quantity: r.quantity,
      lastSyncMs: r.lastSyncMs,
      updateMs: 0,
    }));
    const rules: SafetyStockRule[] = [...this.safetyStock].map(([nodeId, quantity]) => ({ item, nodeId, quantity }));
    const pool = {
      segment: UNSEGMENTED,
      supplies,
      countedDemand: sum([...this.demand.values()].filter((d) => demandCounts(d.demandType)).map((d) => d.quantity)),
      activeReservations: sum(
        this.reservations
          .filter((r) => holdTakes({ state: r.holdState, expireMs: r.expireMs }, nowMs))
          .map((r) => r.held),
      ),
      settledLoan: 0,
    };
    return {
      nodeId: NODE_ID,
      segment: UNSEGMENTED,
      positions: [pool],
      safetyStock: safetyStockWithheld(UNSEGMENTED, rules, NODE_ID),
      rules: NO_CONSUMPTION_RULES,
    };
  }
}

function after<R extends Row>(row: R, decision: SupplyDecision): R {
  return { ...row, quantity: decision.quantityAfter, lastSyncMs: decision.lastSyncMs };
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
