import { decideAdjust, decideSync, EMPTY_POSITION, type PositionState } from './supply-transactions';

const at = (hhmm: string) => Date.parse(`2026-11-29T${hhmm}:00Z`);

/** Replays what the store does: keep the position, and the deltas applied with their source times. */
function replay(events: Array<{ kind: 'sync' | 'adjust'; quantity: number; time: string }>) {
  let position: PositionState = EMPTY_POSITION;
  const applied: Array<{ delta: number; sourceMs: number }> = [];
  const outcomes: string[] = [];
  for (const e of events) {
    const sourceMs = at(e.time);
    const decision =
      e.kind === 'adjust'
        ? decideAdjust(position, e.quantity, sourceMs)
        : decideSync(
            position,
            e.quantity,
            sourceMs,
            applied.filter((a) => a.sourceMs > sourceMs).reduce((s, a) => s + a.delta, 0),
          );
    if (e.kind === 'adjust' && decision.outcome === 'APPLIED') applied.push({ delta: e.quantity, sourceMs });
    outcomes.push(decision.outcome);
    position = { quantity: decision.quantityAfter, lastSyncMs: decision.lastSyncMs };
  }
  return { quantity: position.quantity, outcomes };
}

describe('sync versus adjust', () => {
  it('yields 99 for the worked example and ignores the adjust dated before the sync', () => {
    const result = replay([
      { kind: 'sync', quantity: 102, time: '12:00' },
      { kind: 'adjust', quantity: -1, time: '12:04' },
      { kind: 'sync', quantity: 100, time: '12:03' },
      { kind: 'adjust', quantity: -2, time: '12:02' },
    ]);
    expect(result).toEqual({ quantity: 99, outcomes: ['APPLIED', 'APPLIED', 'APPLIED', 'IGNORED_SUPERSEDED'] });
  });

  it('yields 99 when the service knew nothing before the first adjust', () => {
    const result = replay([
      { kind: 'adjust', quantity: -1, time: '12:04' },
      { kind: 'sync', quantity: 100, time: '12:03' },
      { kind: 'adjust', quantity: -2, time: '12:02' },
    ]);
    expect(result.quantity).toBe(99);
  });

  it('ignores a sync older than the last sync', () => {
    const result = replay([
      { kind: 'sync', quantity: 50, time: '12:10' },
      { kind: 'sync', quantity: 80, time: '12:05' },
    ]);
    expect(result).toEqual({ quantity: 50, outcomes: ['APPLIED', 'IGNORED_SUPERSEDED'] });
  });

  it('treats an adjust dated exactly at the sync as covered by it, whichever arrives first', () => {
    expect(
      replay([
        { kind: 'sync', quantity: 10, time: '12:00' },
        { kind: 'adjust', quantity: 5, time: '12:00' },
      ]).quantity,
    ).toBe(10);
    expect(
      replay([
        { kind: 'adjust', quantity: 5, time: '12:00' },
        { kind: 'sync', quantity: 10, time: '12:00' },
      ]).quantity,
    ).toBe(10);
  });

  it('keeps every later adjust when two syncs arrive late', () => {
    const result = replay([
      { kind: 'adjust', quantity: 3, time: '12:06' },
      { kind: 'adjust', quantity: -1, time: '12:02' },
      { kind: 'sync', quantity: 20, time: '12:01' },
      { kind: 'sync', quantity: 30, time: '12:05' },
    ]);
    // 12:01 sync: 20 + (3 - 1) = 22; 12:05 sync: 30 + 3 = 33 (the 12:02 adjust is inside the 12:05 sync).
    expect(result.quantity).toBe(33);
  });
});
