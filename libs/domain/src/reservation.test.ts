import { unitsBalance } from './testing/balances';
import { InsufficientAvailabilityError } from './errors';
import { itemKey, UNSEGMENTED } from './keys';
import {
  effectiveState,
  planAllocations,
  positionKeyId,
  takeFromAllocations,
  type LineDemand,
  type ReservationLine,
} from './reservation';
import { parseReserve } from './reservation-commands';

const at = (itemId: string, nodeId: string) => positionKeyId({ item: itemKey(itemId), nodeId, segment: UNSEGMENTED });
const line = (
  itemId: string,
  quantity: number,
  location: ReservationLine['location'] = { nodeId: 'N1' },
  allowSplit = false,
): ReservationLine => ({
  item: itemKey(itemId),
  location,
  segment: UNSEGMENTED,
  quantity,
  allowSplit,
});
const demand = (lineIndex: number, l: ReservationLine, candidateNodes = ['N1']): LineDemand => ({
  lineIndex,
  line: l,
  quantity: l.quantity,
  candidateNodes,
  allowSplit: l.allowSplit,
});

describe('planAllocations', () => {
  it('checks lines on one position against their sum, and takes nothing when one falls short', () => {
    const balance = unitsBalance([[at('A', 'N1'), 5]]);
    const short = () => planAllocations([demand(0, line('A', 3)), demand(1, line('A', 3))], balance);
    expect(short).toThrow(InsufficientAvailabilityError);
    try {
      short();
    } catch (err) {
      expect((err as InsufficientAvailabilityError).shortfalls).toEqual([
        { lineIndex: 1, itemId: 'A', location: 'N1', requested: 3, available: 2, own: 2, borrowable: 0 },
      ]);
    }
    expect(balance.free(at('A', 'N1'))).toBe(5);
    expect(planAllocations([demand(0, line('A', 3)), demand(1, line('A', 2))], balance)).toHaveLength(2);
    expect(balance.free(at('A', 'N1'))).toBe(0);
  });

  it('puts an unsplit group line whole on the first node that can hold it, and fills a split one in order', () => {
    const balance = unitsBalance([
      [at('A', 'N1'), 2],
      [at('A', 'N2'), 5],
    ]);
    const group = { distributionGroupId: 'G' };
    expect(planAllocations([demand(0, line('A', 4, group), ['N1', 'N2'])], balance.copy())).toEqual([
      { lineIndex: 0, nodeId: 'N2', quantity: 4 },
    ]);
    expect(planAllocations([demand(0, line('A', 6, group, true), ['N1', 'N2'])], balance.copy())).toEqual([
      { lineIndex: 0, nodeId: 'N1', quantity: 2 },
      { lineIndex: 0, nodeId: 'N2', quantity: 4 },
    ]);
    expect(() => planAllocations([demand(0, line('A', 6, group), ['N1', 'N2'])], balance.copy())).toThrow(
      InsufficientAvailabilityError,
    );
  });

  it('treats an over-committed position as holding nothing, not as a debt', () => {
    const balance = unitsBalance([
      [at('A', 'N1'), -3],
      [at('A', 'N2'), 1],
    ]);
    expect(
      planAllocations([demand(0, line('A', 1, { distributionGroupId: 'G' }, true), ['N1', 'N2'])], balance),
    ).toEqual([{ lineIndex: 0, nodeId: 'N2', quantity: 1 }]);
  });
});

describe('takeFromAllocations', () => {
  const held = [
    { lineIndex: 0, nodeId: 'N1', quantity: 2 },
    { lineIndex: 0, nodeId: 'N2', quantity: 3 },
  ];
  it('takes from the first node (consumption) or from the last (a decrease)', () => {
    expect(takeFromAllocations(held, 3, 'first')).toEqual([
      { lineIndex: 0, nodeId: 'N1', quantity: 2 },
      { lineIndex: 0, nodeId: 'N2', quantity: 1 },
    ]);
    expect(takeFromAllocations(held, 3, 'last')).toEqual([{ lineIndex: 0, nodeId: 'N2', quantity: 3 }]);
  });
});

describe('reservation state and position figures', () => {
  it('reports an active reservation past its expiry as expired', () => {
    expect(effectiveState('ACTIVE', 1000, 999)).toBe('ACTIVE');
    expect(effectiveState('ACTIVE', 1000, 1000)).toBe('EXPIRED');
    expect(effectiveState('CONSUMED', 1000, 2000)).toBe('CONSUMED');
  });
});

describe('parseReserve', () => {
  it('gives a reservation without expiry the default time to live', () => {
    const cmd = parseReserve(
      {
        reservationId: 'r',
        lines: [
          {
            item: itemKey('A'),
            nodeId: 'N1',
            distributionGroupId: undefined,
            segment: UNSEGMENTED,
            quantity: 1,
            allowSplit: false,
          },
        ],
        expireMs: undefined,
      },
      1000,
      60_000,
    );
    expect(cmd.expireMs).toBe(61_000);
    expect(cmd.lines[0]?.location).toEqual({ nodeId: 'N1' });
  });
});
