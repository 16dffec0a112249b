import { NO_CONSUMPTION_RULES, type ConsumptionRules } from './borrowing';
import {
  MAX_CONSUMPTION_RULES,
  newBorrowers,
  parseRulesVersion,
  parseSetConsumptionRules,
  type SegmentConsumptionRuleInput,
} from './consumption-rules';
import { InvalidArgumentError } from './errors';
import type { SegmentKey } from './keys';

const seg = (segment: string, segmentType = 'CHANNEL'): SegmentKey => ({ segmentType, segment });
const rule = (segment: SegmentKey, over: Partial<SegmentConsumptionRuleInput> = {}): SegmentConsumptionRuleInput => ({
  segment,
  mayBorrow: true,
  capQuantity: undefined,
  capRatio: undefined,
  keepInPool: undefined,
  ...over,
});

/** The fields a refused command names, in order. */
function refusedFields(segments: SegmentConsumptionRuleInput[], requestId = 'r'): string[] {
  try {
    parseSetConsumptionRules({ requestId, borrowingEnabled: true, segments });
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.violations.map((v) => v.field);
    throw err;
  }
  throw new Error('expected the command to be refused');
}

describe('parseSetConsumptionRules', () => {
  it('keeps each limit that is set, takes a ratio to millionths and leaves unset limits null', () => {
    const cmd = parseSetConsumptionRules({
      requestId: 'r1',
      borrowingEnabled: true,
      segments: [
        rule(seg('STORE'), { capQuantity: 0, capRatio: 0.3333334, keepInPool: 5 }),
        rule(seg('ONLINE'), { mayBorrow: false, capRatio: 1 }),
        rule(seg('B2B'), { capRatio: 0.0000005 }),
      ],
    });
    expect(cmd).toEqual({
      requestId: 'r1',
      rules: {
        borrowingEnabled: true,
        segments: [
          { segment: seg('STORE'), mayBorrow: true, capQuantity: 0, capRatioPpm: 333333, keepInPool: 5 },
          { segment: seg('ONLINE'), mayBorrow: false, capQuantity: null, capRatioPpm: 1_000_000, keepInPool: null },
          { segment: seg('B2B'), mayBorrow: true, capQuantity: null, capRatioPpm: 1, keepInPool: null },
        ],
      },
    });
  });

  it('accepts no rules at all', () => {
    expect(parseSetConsumptionRules({ requestId: 'r', borrowingEnabled: false, segments: [] }).rules).toEqual({
      borrowingEnabled: false,
      segments: [],
    });
  });

  it('names every bad field', () => {
    expect(refusedFields([rule(seg('', ''))])).toEqual(['segments[0].segment']);
    expect(refusedFields([rule(seg('STORE', ''))])).toEqual(['segments[0].segment.segment_type']);
    expect(refusedFields([rule(seg('', 'CHANNEL'))])).toEqual(['segments[0].segment.segment']);
    expect(refusedFields([rule(seg('A')), rule(seg('B')), rule(seg('A'))])).toEqual(['segments[2].segment']);
    expect(refusedFields([rule(seg('A'), { capQuantity: -1 })])).toEqual(['segments[0].cap_quantity']);
    expect(refusedFields([rule(seg('A'), { keepInPool: -1 })])).toEqual(['segments[0].keep_in_pool']);
    for (const ratio of [-0.01, 1.0000001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(refusedFields([rule(seg('A')), rule(seg('B'), { capRatio: ratio })])).toEqual(['segments[1].cap_ratio']);
    }
    expect(refusedFields([rule(seg('A'))], '')).toEqual(['request_id']);
    expect(refusedFields([rule(seg('A', 'X'.repeat(33)))])).toEqual(['segments[0].segment.segment_type']);
  });

  it('refuses more rules than a version may hold', () => {
    const many = Array.from({ length: MAX_CONSUMPTION_RULES + 1 }, (_, i) => rule(seg(`S${i}`)));
    expect(refusedFields(many)).toEqual(['segments']);
    expect(() =>
      parseSetConsumptionRules({ requestId: 'r', borrowingEnabled: true, segments: many.slice(1) }),
    ).not.toThrow();
  });
});

describe('parseRulesVersion', () => {
  it('takes 0 and up, whole numbers only', () => {
    expect(parseRulesVersion(0)).toBe(0);
    expect(parseRulesVersion(7)).toBe(7);
    expect(() => parseRulesVersion(-1)).toThrow(InvalidArgumentError);
    expect(() => parseRulesVersion(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('newBorrowers', () => {
  const version = (borrowingEnabled: boolean, ...borrowing: Array<[string, boolean]>): ConsumptionRules => ({
    version: 1,
    borrowingEnabled,
    segments: borrowing.map(([segment, mayBorrow]) => ({
      segment: seg(segment),
      mayBorrow,
      capQuantity: null,
      capRatioPpm: null,
      keepInPool: null,
    })),
  });

  it('names the segments that may borrow now and could not before', () => {
    expect(newBorrowers(NO_CONSUMPTION_RULES, version(true, ['A', true], ['B', false]))).toEqual([seg('A')]);
    expect(newBorrowers(version(true, ['A', true]), version(true, ['A', true], ['B', true]))).toEqual([seg('B')]);
    expect(newBorrowers(version(true, ['A', false]), version(true, ['A', true]))).toEqual([seg('A')]);
  });

  it('counts the master switch: turning it on makes every borrowing segment new, turning it off none', () => {
    expect(newBorrowers(version(false, ['A', true], ['B', true]), version(true, ['A', true], ['B', true]))).toEqual([
      seg('A'),
      seg('B'),
    ]);
    expect(newBorrowers(version(true, ['A', true]), version(false, ['A', true]))).toEqual([]);
    expect(newBorrowers(version(true, ['A', true]), version(true))).toEqual([]);
  });
});
