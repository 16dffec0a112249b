import type { SupplyMove } from './allocation-engine';
import type { AllocationPlan } from './allocation-plans';
import { UNSEGMENTED } from './keys';
import { allocateItemNode, rowDeltasOf } from './rebalancing';
import type { SupplyKey, SupplyType } from './supply';

const S1 = { segmentType: 'CHANNEL', segment: 'S1' };
const S2 = { segmentType: 'CHANNEL', segment: 'S2' };
const OTHER = { segmentType: 'CHANNEL', segment: 'OTHER' };
const item = { itemId: 'SKU-1', unitOfMeasure: 'EA', productClass: 'SHOES' };
const key = (segment: typeof S1, supplyType: SupplyType, etaMs: number | null = null): SupplyKey => ({
  item,
  nodeId: 'DC1',
  segment,
  supplyType,
  etaMs,
});

describe('rowDeltasOf', () => {
  it("gives the giver's latest-arriving units first and the receiver the same ETAs", () => {
    const move: SupplyMove = { supplyType: 'INTRANSIT', from: UNSEGMENTED, to: S1, quantity: 15 };
    const deltas = rowDeltasOf(
      [move],
      [
        { key: key(UNSEGMENTED, 'INTRANSIT', 1000), quantity: 10 },
        { key: key(UNSEGMENTED, 'INTRANSIT', 3000), quantity: 10 },
        { key: key(UNSEGMENTED, 'INTRANSIT', 2000), quantity: -4 },
        { key: key(UNSEGMENTED, 'ONHAND'), quantity: 50 },
      ],
    );
    expect(deltas.map((d) => [d.key.segment.segment, d.key.etaMs, d.delta])).toEqual([
      ['', 3000, -10],
      ['S1', 3000, 10],
      ['', 1000, -5],
      ['S1', 1000, 5],
    ]);
  });

  it('takes later moves from what earlier moves left', () => {
    const deltas = rowDeltasOf(
      [
        { supplyType: 'ONHAND', from: S2, to: S1, quantity: 6 },
        { supplyType: 'ONHAND', from: S1, to: UNSEGMENTED, quantity: 4 },
      ],
      [{ key: key(S2, 'ONHAND'), quantity: 6 }],
    );
    expect(deltas.map((d) => [d.key.segment.segment, d.delta])).toEqual([
      ['S2', -6],
      ['S1', 6],
      ['S1', -4],
      ['', 4],
    ]);
  });

  it('refuses a move beyond what the giver holds', () => {
    expect(() =>
      rowDeltasOf([{ supplyType: 'ONHAND', from: S1, to: S2, quantity: 5 }], [{ key: key(S1, 'ONHAND'), quantity: 4 }]),
    ).toThrow('exceeds');
  });
});

describe('allocateItemNode', () => {
  const plan: AllocationPlan = {
    segmentType: 'CHANNEL',
    version: 3,
    rebalanceEveryMs: null,
    triggersEnabled: true,
    enabled: true,
    rules: [
      {
        ruleId: 'half',
        rank: 1,
        conditions: { itemIds: [], nodeIds: ['DC1'], productClass: null, effectiveFromMs: null, effectiveToMs: null },
        strategy: {
          kind: 'FIXED',
          segments: [
            { segment: S1, basisPoints: 5000, minimum: 0 },
            { segment: UNSEGMENTED, basisPoints: 5000, minimum: 0 },
          ],
        },
      },
    ],
  };
  const stock = (segment: typeof S1, onhand: number) => ({
    segment,
    supplies: [{ key: key(segment, 'ONHAND'), quantity: onhand }],
    commitments: 0,
    loan: 0,
    demandInWindow: 0,
  });

  it("splits the rule's segments and the pool, leaving segments the rule does not name alone", () => {
    const done = allocateItemNode(plan, { item, nodeId: 'DC1' }, [stock(UNSEGMENTED, 10), stock(OTHER, 7)], 0);
    expect(done).toMatchObject({ ruleId: 'half', planVersion: 3 });
    expect(done.result?.types[0]?.segments.map((s) => [s.segment.segment, s.after])).toEqual([
      ['S1', 5],
      ['', 5],
    ]);
  });

  it('does nothing where no rule matches', () => {
    const done = allocateItemNode(plan, { item, nodeId: 'DC2' }, [stock(UNSEGMENTED, 10)], 0);
    expect(done).toEqual({ item, nodeId: 'DC2', ruleId: '', planVersion: 3, result: null });
  });
});
