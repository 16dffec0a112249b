import { abcClasses, countAccuracy, countedLine, isWithinTolerance, itemId, type CountLine } from './cycle-counts';
import { itemKey } from './keys';

const line = (over: Partial<CountLine> = {}): CountLine => ({
  lineNo: 1,
  item: itemKey('I'),
  abcClass: 'A',
  toleranceBp: 100,
  state: 'PENDING',
  counts: 0,
  countedQuantity: null,
  countMs: null,
  counter: '',
  systemQuantity: null,
  firstCountedQuantity: null,
  firstSystemQuantity: null,
  ...over,
});
const count = (countedQuantity: number, systemQuantity: number) => ({
  countedQuantity,
  systemQuantity,
  countMs: 1,
  counter: 'c',
});

describe('cycle counts', () => {
  it('classes items by their share of the movement: the first 80 % A, the next 15 % B, the rest C', () => {
    const classes = abcClasses(
      [
        ['I1', 700],
        ['I2', 150],
        ['I3', 100],
        ['I4', 50],
        ['I5', 0],
      ].map(([id, movement]) => ({
        item: itemKey(id as string),
        movement: movement as number,
      })),
    );
    expect(['I1', 'I2', 'I3', 'I4', 'I5'].map((id) => classes.get(itemId(itemKey(id))))).toEqual([
      'A',
      'A',
      'B',
      'C',
      'C',
    ]);
  });

  it('tolerates a variance up to the share of the system quantity, none of nothing', () => {
    expect(isWithinTolerance(-1, 100, 100)).toBe(true);
    expect(isWithinTolerance(2, 100, 100)).toBe(false);
    expect(isWithinTolerance(0, 0, 500)).toBe(true);
    expect(isWithinTolerance(1, 0, 500)).toBe(false);
  });

  it('asks for a recount once, and keeps the first count when it does', () => {
    const first = countedLine(line(), count(90, 100));
    expect(first).toMatchObject({ state: 'RECOUNT_REQUIRED', counts: 1, firstCountedQuantity: null });
    const second = countedLine(first, count(91, 100));
    expect(second).toMatchObject({
      state: 'COUNTED',
      counts: 2,
      countedQuantity: 91,
      firstCountedQuantity: 90,
      firstSystemQuantity: 100,
    });
    expect(() => countedLine(second, count(95, 100))).toThrow('takes no count');
    expect(countedLine(line(), count(100, 100)).state).toBe('COUNTED');
  });

  it('never nets positive and negative variances in the accuracy', () => {
    const approved = (countedQuantity: number, abcClass: 'A' | 'B') =>
      line({ abcClass, state: 'APPROVED', countedQuantity, systemQuantity: 100, counts: 1 });
    expect(
      countAccuracy([
        { nodeId: 'N', line: approved(105, 'A') },
        { nodeId: 'N', line: approved(95, 'A') },
        { nodeId: 'N', line: approved(100, 'B') },
      ]),
    ).toEqual([
      { nodeId: 'N', abcClass: undefined, counts: 3, withinTolerance: 1, totalAbsoluteVariance: 10 },
      { nodeId: 'N', abcClass: 'A', counts: 2, withinTolerance: 0, totalAbsoluteVariance: 10 },
      { nodeId: 'N', abcClass: 'B', counts: 1, withinTolerance: 1, totalAbsoluteVariance: 0 },
    ]);
  });
});
