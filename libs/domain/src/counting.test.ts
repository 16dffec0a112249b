import {
  availabilityOf,
  COUNTED_DEMAND_TYPES,
  countsFromEta,
  demandCounts,
  holdTakes,
  promisable,
  requiresEta,
  safetyStockWithheld,
  SUPPLY_COUNTED_AT_ONCE,
  SUPPLY_COUNTED_FROM_ETA,
  supplyCountsAsOf,
  supplyNotCountedReason,
} from './counting';
import { DEMAND_TYPES } from './demand';
import { itemKey, UNSEGMENTED } from './keys';
import { SUPPLY_TYPES } from './supply';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const WEB = { segmentType: 'CHANNEL', segment: 'WEB' };
const at = (segment = UNSEGMENTED) => ({ item: itemKey('A'), nodeId: 'N1', segment });

describe('what supply counts, and from when', () => {
  it('counts supply on hand at once, supply on its way from its ETA, and a forecast never', () => {
    expect(SUPPLY_COUNTED_AT_ONCE).toEqual(['ONHAND']);
    expect(SUPPLY_COUNTED_FROM_ETA).toEqual(['INTRANSIT', 'PO_PLACED', 'PO_RELEASED', 'WIP']);
    expect(SUPPLY_TYPES.filter((t) => ![...SUPPLY_COUNTED_AT_ONCE, ...SUPPLY_COUNTED_FROM_ETA].includes(t))).toEqual([
      'PLAN',
    ]);
  });

  it.each([
    ['ONHAND', null, NOW, true, ''],
    ['INTRANSIT', NOW, NOW, true, ''],
    ['INTRANSIT', NOW + 1, NOW, false, 'arrives after the time asked'],
    ['WIP', NOW - 1, NOW, true, ''],
    ['PLAN', NOW - 1, NOW, false, 'PLAN supply never counts'],
  ] as const)('%s due at %s, asked at %s: counts %s', (supplyType, etaMs, asOfMs, counts, reason) => {
    expect(supplyCountsAsOf({ supplyType, etaMs }, asOfMs)).toBe(counts);
    expect(supplyNotCountedReason({ supplyType, etaMs }, asOfMs)).toBe(reason);
  });

  it('names the ETA only of supply that counts from its ETA', () => {
    expect(countsFromEta({ supplyType: 'PO_PLACED', etaMs: NOW })).toBe(NOW);
    expect(countsFromEta({ supplyType: 'ONHAND', etaMs: null })).toBeNull();
    expect(countsFromEta({ supplyType: 'PLAN', etaMs: NOW })).toBeNull();
  });

  it('asks an ETA of every type that does not count at once', () => {
    expect(SUPPLY_TYPES.filter((t) => !requiresEta(t))).toEqual(SUPPLY_COUNTED_AT_ONCE);
  });
});

describe('what demand and holds count', () => {
  it('counts every demand type but a forecast', () => {
    expect(COUNTED_DEMAND_TYPES).toEqual(['OPEN_ORDER', 'SCHEDULED', 'ALLOCATED', 'BACKORDER']);
    expect(DEMAND_TYPES.filter((t) => !demandCounts(t))).toEqual(['PLAN']);
  });

  it('counts a hold while it is HELD and before its expiry', () => {
    expect(holdTakes({ state: 'HELD', expireMs: NOW + 1 }, NOW)).toBe(true);
    expect(holdTakes({ state: 'HELD', expireMs: NOW }, NOW)).toBe(false);
    expect(holdTakes({ state: 'RELEASED', expireMs: NOW + 1 }, NOW)).toBe(false);
    expect(holdTakes({ state: 'CONSUMED', expireMs: NOW + 1 }, NOW)).toBe(false);
    expect(holdTakes({ state: 'EXPIRED', expireMs: NOW + 1 }, NOW)).toBe(false);
  });
});

describe('the availability formula', () => {
  it('takes demand, holds and safety stock from supply, floors at zero and reports the shortage', () => {
    expect(availabilityOf({ supply: 10, demand: 2, reserved: 3, safetyStock: 1 })).toEqual({
      available: 4,
      shortage: 0,
    });
    expect(availabilityOf({ supply: 10, demand: 4, reserved: 5, safetyStock: 3 })).toEqual({
      available: 0,
      shortage: 2,
    });
  });

  it('withholds the node safety stock rule over the item rule, and only from the unsegmented pool', () => {
    const totals = { supply: 10, demand: 2, reserved: 3, nodeSafetyStock: 1, itemSafetyStock: 4 };
    expect(promisable(at(), totals)).toBe(4);
    expect(promisable(at(), { ...totals, nodeSafetyStock: null })).toBe(1);
    expect(promisable(at(WEB), totals)).toBe(5);
    expect(promisable(at(), undefined)).toBe(0);
  });

  it('withholds the same safety stock on the read path as on a position', () => {
    const rules = [
      { item: itemKey('A'), nodeId: '', quantity: 4 },
      { item: itemKey('A'), nodeId: 'N1', quantity: 1 },
    ];
    expect(safetyStockWithheld(UNSEGMENTED, rules, 'N1')).toEqual({ quantity: 1, level: 'ITEM_NODE' });
    expect(safetyStockWithheld(UNSEGMENTED, rules, 'N2')).toEqual({ quantity: 4, level: 'ITEM' });
    expect(safetyStockWithheld(WEB, rules, 'N1')).toEqual({ quantity: 0, level: 'NONE' });
  });
});
