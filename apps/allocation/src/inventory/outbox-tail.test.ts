import { cursorAfter, GAP_GRACE_MS } from './outbox-tail';

const NOW = 1_000_000;

describe('cursorAfter', () => {
  it('moves to the last sequence read and keeps the holes below it', () => {
    expect(cursorAfter({ afterSequence: 10, gaps: [] }, [], [11, 14, 15, 19], NOW)).toEqual({
      afterSequence: 19,
      gaps: [
        { from: 12, to: 13, seenMs: NOW },
        { from: 16, to: 18, seenMs: NOW },
      ],
    });
  });

  it('takes late commits out of their holes, splitting them, and keeps when each hole was first seen', () => {
    const cursor = { afterSequence: 30, gaps: [{ from: 12, to: 18, seenMs: NOW - 1000 }] };
    expect(cursorAfter(cursor, [12, 15], [], NOW)).toEqual({
      afterSequence: 30,
      gaps: [
        { from: 13, to: 14, seenMs: NOW - 1000 },
        { from: 16, to: 18, seenMs: NOW - 1000 },
      ],
    });
    expect(cursorAfter(cursor, [12, 13, 14, 15, 16, 17, 18], [], NOW).gaps).toEqual([]);
  });

  it('forgets a hole the grace period after it was first seen: a rollback leaves it for ever', () => {
    const cursor = {
      afterSequence: 30,
      gaps: [
        { from: 12, to: 12, seenMs: NOW - GAP_GRACE_MS },
        { from: 20, to: 20, seenMs: NOW - GAP_GRACE_MS + 1 },
      ],
    };
    expect(cursorAfter(cursor, [], [], NOW).gaps).toEqual([{ from: 20, to: 20, seenMs: NOW - GAP_GRACE_MS + 1 }]);
  });
});
