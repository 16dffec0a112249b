import { BatchTooLargeError, type InvalidArgumentError } from './errors';
import { itemKey, UNSEGMENTED } from './keys';
import { MAX_LINES_PER_REQUEST, Violations } from './validation';

function violationsOf(check: (v: Violations) => void) {
  const v = new Violations();
  check(v);
  try {
    v.throwIfAny();
    return [];
  } catch (e) {
    return (e as InvalidArgumentError).violations.map((x) => x.field);
  }
}

describe('Violations', () => {
  it('names every offending field of a supply key', () => {
    const fields = violationsOf((v) =>
      v.supplyKey('lines[0].key', {
        item: itemKey(''),
        nodeId: 'bad id',
        segment: UNSEGMENTED,
        supplyType: 'INTRANSIT',
        etaMs: undefined,
      }),
    );
    expect(fields).toEqual(['lines[0].key.item.item_id', 'lines[0].key.node_id', 'lines[0].key.eta_time']);
  });

  it('refuses negative, fractional and oversized quantities and zero deltas', () => {
    expect(violationsOf((v) => v.quantity('q', -1, 0))).toEqual(['q']);
    expect(violationsOf((v) => v.quantity('q', 1.5, 0))).toEqual(['q']);
    expect(violationsOf((v) => v.quantity('q', 2 ** 60, 0))).toEqual(['q']);
    expect(violationsOf((v) => v.delta('d', 0))).toEqual(['d']);
    expect(violationsOf((v) => v.quantity('q', 0, 0))).toEqual([]);
  });

  it('refuses a batch over the maximum with its own error', () => {
    expect(() => new Violations().lineCount('lines', MAX_LINES_PER_REQUEST + 1)).toThrow(BatchTooLargeError);
    expect(violationsOf((v) => v.lineCount('lines', 0))).toEqual(['lines']);
  });

  it('refuses a source time further ahead of the clock than the allowed skew, and only then', () => {
    const limit = { nowMs: Date.UTC(2026, 10, 29, 12), maxSkewMs: 300_000 };
    expect(violationsOf((v) => v.sourceTime('t', limit.nowMs + 300_000, limit))).toEqual([]);
    expect(violationsOf((v) => v.sourceTime('t', limit.nowMs + 300_001, limit))).toEqual(['t']);
    expect(violationsOf((v) => v.sourceTime('t', Date.UTC(9999, 0, 1), limit))).toEqual(['t']);
    expect(violationsOf((v) => v.sourceTime('t', undefined, limit))).toEqual(['t']);
  });
});
