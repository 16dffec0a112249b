import type { AllocationPlan } from './allocation-plans';
import { itemKey, UNSEGMENTED, type SegmentKey } from './keys';
import {
  afterScheduledRun,
  detectionDebounced,
  scheduleFor,
  warrantsDetectedRebalance,
  type RebalanceSchedule,
} from './rebalance-triggers';
import { allocateItemNode, type ItemNodeSegmentStock } from './rebalancing';

const MINUTE = 60_000;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const STORE: SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const ONLINE: SegmentKey = { segmentType: 'CHANNEL', segment: 'ONLINE' };

/** STORE and ONLINE half each of every pool at every item-node. */
function plan(changes: Partial<AllocationPlan> = {}): AllocationPlan {
  return {
    segmentType: 'CHANNEL',
    version: 1,
    rules: [
      {
        ruleId: 'halves',
        rank: 1,
        conditions: { itemIds: [], nodeIds: [], productClass: null, effectiveFromMs: null, effectiveToMs: null },
        strategy: {
          kind: 'FIXED',
          segments: [
            { segment: STORE, basisPoints: 5000, minimum: 0 },
            { segment: ONLINE, basisPoints: 5000, minimum: 0 },
          ],
        },
      },
    ],
    rebalanceEveryMs: 60 * MINUTE,
    triggersEnabled: true,
    enabled: true,
    ...changes,
  };
}

const stored = (nextRunMs: number, everyMs = 60 * MINUTE): RebalanceSchedule => ({
  segmentType: 'CHANNEL',
  nextRunMs,
  everyMs,
  planVersion: 1,
});

describe('scheduleFor', () => {
  it('first schedules a plan one interval from now, then keeps the time while the frequency stays', () => {
    expect(scheduleFor(plan(), undefined, NOW)).toEqual(stored(NOW + 60 * MINUTE));
    expect(scheduleFor(plan({ version: 2 }), stored(NOW + 5 * MINUTE), NOW)).toEqual({
      ...stored(NOW + 5 * MINUTE),
      planVersion: 2,
    });
  });

  it('counts a shorter frequency from the change, and keeps a run already due sooner than a longer one', () => {
    expect(scheduleFor(plan({ rebalanceEveryMs: 10 * MINUTE }), stored(NOW + 50 * MINUTE), NOW)?.nextRunMs).toBe(
      NOW + 10 * MINUTE,
    );
    expect(scheduleFor(plan({ rebalanceEveryMs: 24 * 60 * MINUTE }), stored(NOW + 5 * MINUTE), NOW)).toEqual(
      stored(NOW + 5 * MINUTE, 24 * 60 * MINUTE),
    );
  });

  it('drops the schedule of a disabled plan or one without a frequency', () => {
    expect(scheduleFor(plan({ enabled: false }), stored(NOW), NOW)).toBeNull();
    expect(scheduleFor(plan({ rebalanceEveryMs: null }), stored(NOW), NOW)).toBeNull();
  });

  it('after a run, is next due one interval after the start, however late the run was', () => {
    expect(afterScheduledRun(stored(NOW - 5 * 60 * MINUTE), NOW).nextRunMs).toBe(NOW + 60 * MINUTE);
  });
});

describe('warrantsDetectedRebalance', () => {
  const itemNode = { item: itemKey('SHIRT'), nodeId: 'DC1' };
  const holding = (segment: SegmentKey, onhand: number, commitments = 0): ItemNodeSegmentStock => ({
    segment,
    supplies: [
      {
        key: { item: itemNode.item, nodeId: 'DC1', segment, supplyType: 'ONHAND', etaMs: null },
        quantity: onhand,
      },
    ],
    commitments,
    loan: 0,
    demandInWindow: 0,
  });
  const allocation = (...stock: ItemNodeSegmentStock[]) => allocateItemNode(plan(), itemNode, stock, NOW);

  it('holds when another participant of the rule holds more than its target and would give', () => {
    const zeroStore = allocation(holding(STORE, 10, 10), holding(ONLINE, 90));
    expect(warrantsDetectedRebalance(zeroStore, STORE)).toBe(true);
    // The pool above its (zero) target counts as another participant too.
    expect(warrantsDetectedRebalance(allocation(holding(STORE, 0), holding(UNSEGMENTED, 40)), STORE)).toBe(true);
  });

  it('does not hold when everyone is at target, or the one above it is kept there by its own commitments', () => {
    expect(warrantsDetectedRebalance(allocation(holding(STORE, 50, 50), holding(ONLINE, 50)), STORE)).toBe(false);
    expect(warrantsDetectedRebalance(allocation(holding(STORE, 10, 10), holding(ONLINE, 90, 90)), STORE)).toBe(false);
  });

  it('does not hold for a segment the rule does not name, nor where no rule applies', () => {
    const other: SegmentKey = { segmentType: 'CHANNEL', segment: 'MARKETPLACE' };
    expect(warrantsDetectedRebalance(allocation(holding(other, 0), holding(ONLINE, 90)), other)).toBe(false);
    const noRule = allocateItemNode(plan({ rules: [] }), itemNode, [holding(STORE, 0), holding(ONLINE, 90)], NOW);
    expect(warrantsDetectedRebalance(noRule, STORE)).toBe(false);
  });
});

describe('detectionDebounced', () => {
  it('holds a detection off until the debounce has passed since the last one', () => {
    expect(detectionDebounced(undefined, NOW, MINUTE)).toBe(false);
    expect(detectionDebounced(NOW - MINUTE + 1, NOW, MINUTE)).toBe(true);
    expect(detectionDebounced(NOW - MINUTE, NOW, MINUTE)).toBe(false);
  });
});
