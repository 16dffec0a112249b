import { availabilityByDate, networkAvailability, nodeAvailability, type NodeAvailabilityInputs } from './availability';
import { itemKey, UNSEGMENTED } from './keys';
import type { Supply, SupplyType } from './supply';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-29T12:00:00Z');
const ITEM = itemKey('SKU-1');

function supply(nodeId: string, supplyType: SupplyType, quantity: number, etaMs: number | null = null): Supply {
  return {
    key: { item: ITEM, nodeId, segment: UNSEGMENTED, supplyType, etaMs },
    quantity,
    lastSyncMs: null,
    updateMs: 0,
  };
}

function inputs(
  nodeId: string,
  supplies: Supply[],
  extra: Partial<NodeAvailabilityInputs> = {},
): NodeAvailabilityInputs {
  return {
    nodeId,
    supplies,
    countedDemand: 0,
    activeReservations: 0,
    safetyStock: { quantity: 0, level: 'NONE' },
    ...extra,
  };
}

describe('nodeAvailability', () => {
  it('counts ONHAND and future supply due by the time asked, never PLAN', () => {
    const result = nodeAvailability(
      inputs('DC1', [
        supply('DC1', 'ONHAND', 10),
        supply('DC1', 'INTRANSIT', 5, NOW + DAY),
        supply('DC1', 'PO_PLACED', 7, NOW + 3 * DAY),
        supply('DC1', 'PLAN', 100, NOW + DAY),
      ]),
      NOW + 2 * DAY,
    );
    expect(result).toMatchObject({ available: 15, shortage: 0, onhand: 10, futureSupply: 5 });
    expect(result.contributions.map((c) => [c.supply.key.supplyType, c.counted, c.reason])).toEqual([
      ['ONHAND', true, ''],
      ['INTRANSIT', true, ''],
      ['PO_PLACED', false, 'arrives after the time asked'],
      ['PLAN', false, 'PLAN supply never counts'],
    ]);
  });

  it('withholds demand, reservations and safety stock, floors at zero and reports the shortage', () => {
    const result = nodeAvailability(
      inputs('DC1', [supply('DC1', 'ONHAND', 10)], {
        countedDemand: 4,
        activeReservations: 5,
        safetyStock: { quantity: 3, level: 'ITEM' },
      }),
      NOW,
    );
    expect(result).toMatchObject({ available: 0, shortage: 2, demand: 4, reserved: 5 });
  });

  it('lets negative ONHAND (an adjust ahead of its sync) offset other supply', () => {
    const result = nodeAvailability(
      inputs('DC1', [supply('DC1', 'ONHAND', -1), supply('DC1', 'INTRANSIT', 5, NOW - DAY)]),
      NOW,
    );
    expect(result).toMatchObject({ available: 4, onhand: -1, futureSupply: 5 });
  });
});

describe('networkAvailability', () => {
  it('sums the nodes, each floored on its own', () => {
    const result = networkAvailability(
      [
        inputs('DC1', [supply('DC1', 'ONHAND', 10)]),
        inputs('DC2', [supply('DC2', 'ONHAND', 2)], { safetyStock: { quantity: 5, level: 'ITEM_NODE' } }),
      ],
      NOW,
    );
    expect(result.available).toBe(10);
    expect(result.shortage).toBe(3);
    expect(result.nodes.map((n) => n.nodeId)).toEqual(['DC1', 'DC2']);
  });
});

describe('availabilityByDate', () => {
  it('reports now, then one cumulative bucket per ETA up to the horizon', () => {
    const result = availabilityByDate(
      [
        inputs(
          'DC1',
          [
            supply('DC1', 'ONHAND', 4),
            supply('DC1', 'INTRANSIT', 5, NOW + DAY),
            supply('DC1', 'PLAN', 50, NOW + DAY),
            supply('DC1', 'PO_PLACED', 7, NOW + 10 * DAY),
          ],
          { safetyStock: { quantity: 6, level: 'ITEM' } },
        ),
        inputs('DC2', [supply('DC2', 'WIP', 1, NOW + DAY)]),
      ],
      NOW,
      NOW + 5 * DAY,
    );
    expect(result).toEqual({
      currentAvailable: 0,
      currentShortage: 2,
      buckets: [{ bucketMs: NOW + DAY, incoming: 6, available: 4, shortage: 0 }],
    });
  });
});
