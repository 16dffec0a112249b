import { unitsBalance } from './testing/balances';
import {
  InsufficientAvailabilityError,
  InvalidArgumentError,
  ReservationNotActiveError,
  ReservationNotExpiredError,
} from './errors';
import { itemKey, UNSEGMENTED } from './keys';
import {
  positionKeyId,
  type Allocation,
  type Reservation,
  type ReservationLine,
  type ReservationState,
} from './reservation';
import {
  changeReservationQuantities,
  consumeReservation,
  expireReservation,
  extendReservation,
  holdIncreases,
  increaseDemands,
  releaseReservation,
  reservationAsOf,
  reserve,
  type HeldReservation,
  type HeldUnits,
} from './reservation-lifecycle';

const NOW = 1_000_000;
const EXPIRY = NOW + 60_000;
const WEB = { segmentType: 'CHANNEL', segment: 'WEB' };

type Hold = HeldUnits & { readonly holdId: number };

const atNode = (quantity: number, nodeId = 'N1'): ReservationLine => ({
  item: itemKey('A'),
  location: { nodeId },
  segment: UNSEGMENTED,
  quantity,
  allowSplit: false,
});
const inGroup = (quantity: number, allowSplit: boolean, itemId = 'B'): ReservationLine => ({
  item: itemKey(itemId),
  location: { distributionGroupId: 'G' },
  segment: WEB,
  quantity,
  allowSplit,
});

/**
 * A stored reservation whose lines hold units at nodes, given as `[line, { node: units }]`, and its HELD
 * holds (one per line and node, ids in order).
 */
function stored(
  lines: ReadonlyArray<readonly [ReservationLine, Record<string, number>]>,
  {
    state = 'ACTIVE',
    expireMs = EXPIRY,
    consumed = 0,
  }: { state?: ReservationState; expireMs?: number; consumed?: number } = {},
): HeldReservation<Hold> {
  const reservation: Reservation = {
    reservationId: 'R1',
    state,
    lines: lines.map(([line, held], lineIndex) => ({
      line,
      allocations: Object.entries(held).map(([nodeId, quantity]) => ({ lineIndex, nodeId, quantity })),
      consumedQuantity: consumed,
    })),
    expireMs,
    createMs: NOW - 1000,
    updateMs: NOW - 1000,
  };
  const holds = reservation.lines
    .flatMap((l) => l.allocations)
    .map((a, i) => ({ holdId: i + 1, lineIndex: a.lineIndex, nodeId: a.nodeId, quantity: a.quantity }));
  return { reservation, holds };
}

/** The same reservation after a position ended one of its holds on its own (it found it past expiry). */
function withHoldExpiredUnderneath(current: HeldReservation<Hold>): HeldReservation<Hold> {
  return { ...current, holds: current.holds.slice(1) };
}

/** What each hold became, by hold id. */
function holdsAfter(changes: ReadonlyArray<{ hold: Hold; quantity: number; state: string; freed: number }>) {
  return changes.map((c) => ({ holdId: c.hold.holdId, quantity: c.quantity, state: c.state, freed: c.freed }));
}

function refusal(change: () => unknown): unknown {
  try {
    change();
  } catch (err) {
    return err;
  }
  throw new Error('the change was not refused');
}

/** Every refusal of a change to a reservation that is not active now. */
function refusesInactive(change: (current: HeldReservation<Hold>, nowMs: number) => unknown) {
  const active = stored([[atNode(5), { N1: 5 }]]);
  const cases: Array<[HeldReservation<Hold>, number, string]> = [
    [stored([[atNode(5), {}]], { state: 'RELEASED' }), NOW, 'RELEASED'],
    [stored([[atNode(5), {}]], { state: 'CONSUMED' }), NOW, 'CONSUMED'],
    [stored([[atNode(5), {}]], { state: 'EXPIRED' }), NOW, 'EXPIRED'],
    // Active as stored, but past its expiry: no sweep is needed for it to count as expired.
    [active, EXPIRY, 'EXPIRED'],
    [withHoldExpiredUnderneath(active), NOW, 'EXPIRED'],
  ];
  for (const [current, nowMs, state] of cases) {
    const err = refusal(() => change(current, nowMs));
    expect(err).toBeInstanceOf(ReservationNotActiveError);
    expect((err as ReservationNotActiveError).metadata).toEqual({ reservation_id: 'R1', state });
  }
}

function fieldOf(err: unknown): string | undefined {
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return (err as InvalidArgumentError).violations[0]?.field;
}

describe('reserve', () => {
  it('makes an active reservation holding the planned units of each line', () => {
    const allocations: Allocation[] = [
      { lineIndex: 0, nodeId: 'N1', quantity: 2 },
      { lineIndex: 1, nodeId: 'N1', quantity: 1 },
      { lineIndex: 1, nodeId: 'N2', quantity: 3 },
    ];
    const t = reserve(
      { reservationId: 'R1', lines: [atNode(2), inGroup(4, true)], expireMs: EXPIRY },
      allocations,
      NOW,
    );
    expect(t.reservation).toEqual({
      reservationId: 'R1',
      state: 'ACTIVE',
      lines: [
        { line: atNode(2), allocations: [allocations[0]], consumedQuantity: 0 },
        { line: inGroup(4, true), allocations: [allocations[1], allocations[2]], consumedQuantity: 0 },
      ],
      expireMs: EXPIRY,
      createMs: NOW,
      updateMs: NOW,
    });
    expect([t.grown, t.holds, t.demand, t.event]).toEqual([allocations, [], [], 'created']);
  });

  it('reports a reservation decided only after its expiry time as expired', () => {
    expect(
      reserve(
        { reservationId: 'R1', lines: [atNode(1)], expireMs: NOW },
        [{ lineIndex: 0, nodeId: 'N1', quantity: 1 }],
        NOW,
      ).reservation.state,
    ).toBe('EXPIRED');
  });
});

describe('extendReservation', () => {
  it('moves the expiry of the reservation and its holds, and frees nothing', () => {
    const current = stored([[inGroup(5, true), { N1: 2, N2: 3 }]]);
    const t = extendReservation(current, { expireMs: EXPIRY + 5000 }, NOW);
    expect(t.reservation).toEqual({ ...current.reservation, expireMs: EXPIRY + 5000, updateMs: NOW });
    expect(holdsAfter(t.holds)).toEqual([
      { holdId: 1, quantity: 2, state: 'HELD', freed: 0 },
      { holdId: 2, quantity: 3, state: 'HELD', freed: 0 },
    ]);
    expect([t.grown, t.demand, t.event]).toEqual([[], [], 'extended']);
  });

  it('refuses a reservation that is not active, naming its state', () => {
    refusesInactive((current, nowMs) => extendReservation(current, { expireMs: EXPIRY + 5000 }, nowMs));
  });
});

describe('releaseReservation', () => {
  it('ends every hold and frees all its units; the lines stay, holding nothing', () => {
    const current = stored([
      [atNode(2), { N1: 2 }],
      [inGroup(5, true), { N1: 2, N2: 3 }],
    ]);
    const t = releaseReservation(current, NOW);
    expect(t.reservation.state).toBe('RELEASED');
    expect(t.reservation.lines.map((l) => [l.line.quantity, l.allocations])).toEqual([
      [2, []],
      [5, []],
    ]);
    expect(holdsAfter(t.holds)).toEqual([
      { holdId: 1, quantity: 2, state: 'RELEASED', freed: 2 },
      { holdId: 2, quantity: 2, state: 'RELEASED', freed: 2 },
      { holdId: 3, quantity: 3, state: 'RELEASED', freed: 3 },
    ]);
    expect([t.reservation.updateMs, t.grown, t.demand, t.event]).toEqual([NOW, [], [], 'released']);
  });

  it('refuses a reservation that is not active, naming its state', () => {
    refusesInactive((current, nowMs) => releaseReservation(current, nowMs));
  });
});

describe('consumeReservation', () => {
  const order = { demandType: 'ALLOCATED' as const, orderReference: 'ORDER-7' };

  it('turns every held unit into demand when no line is named, and is then consumed', () => {
    const current = stored([
      [atNode(2), { N1: 2 }],
      [inGroup(5, true), { N1: 2, N2: 3 }],
    ]);
    const t = consumeReservation(current, { lines: [], ...order }, NOW);
    expect(t.reservation.state).toBe('CONSUMED');
    expect(t.reservation.lines.map((l) => [l.line.quantity, l.allocations, l.consumedQuantity])).toEqual([
      [0, [], 2],
      [0, [], 5],
    ]);
    expect(holdsAfter(t.holds)).toEqual([
      { holdId: 1, quantity: 0, state: 'CONSUMED', freed: 2 },
      { holdId: 2, quantity: 0, state: 'CONSUMED', freed: 2 },
      { holdId: 3, quantity: 0, state: 'CONSUMED', freed: 3 },
    ]);
    const demand = (itemId: string, nodeId: string, segment: typeof WEB, quantity: number) => ({
      key: { item: itemKey(itemId), nodeId, segment, demandType: 'ALLOCATED', orderReference: 'ORDER-7' },
      quantity,
    });
    expect(t.demand).toEqual([demand('A', 'N1', UNSEGMENTED, 2), demand('B', 'N1', WEB, 2), demand('B', 'N2', WEB, 3)]);
    expect(t.event).toBe('consumed');
  });

  it('takes part of a line from its first node first, leaves other lines alone, and stays active', () => {
    const current = stored([
      [atNode(2), { N1: 2 }],
      [inGroup(5, true), { N1: 2, N2: 3 }],
    ]);
    const t = consumeReservation(
      current,
      { lines: [{ lineIndex: 1, quantity: 3 }], demandType: 'OPEN_ORDER', orderReference: 'ORDER-8' },
      NOW,
    );
    expect(t.reservation.state).toBe('ACTIVE');
    expect(t.reservation.lines[0]).toEqual(current.reservation.lines[0]);
    expect(t.reservation.lines[1]).toEqual({
      line: inGroup(2, true),
      allocations: [{ lineIndex: 1, nodeId: 'N2', quantity: 2 }],
      consumedQuantity: 3,
    });
    expect(holdsAfter(t.holds)).toEqual([
      { holdId: 2, quantity: 0, state: 'CONSUMED', freed: 2 },
      { holdId: 3, quantity: 2, state: 'HELD', freed: 1 },
    ]);
    expect(t.demand.map((d) => [d.key.nodeId, d.key.demandType, d.key.orderReference, d.quantity])).toEqual([
      ['N1', 'OPEN_ORDER', 'ORDER-8', 2],
      ['N2', 'OPEN_ORDER', 'ORDER-8', 1],
    ]);
  });

  it('is consumed once the last held units are taken, counting what was consumed before', () => {
    const current = stored([[atNode(2), { N1: 2 }]], { consumed: 3 });
    const t = consumeReservation(current, { lines: [{ lineIndex: 0, quantity: 2 }], ...order }, NOW);
    expect([t.reservation.state, t.reservation.lines[0]?.consumedQuantity]).toEqual(['CONSUMED', 5]);
  });

  it('refuses to consume more than a line holds, or a line the reservation does not have, and changes nothing', () => {
    const current = stored([
      [atNode(2), { N1: 2 }],
      [inGroup(5, true), { N1: 2, N2: 3 }],
    ]);
    const before = structuredClone(current);
    const tooMuch = refusal(() =>
      consumeReservation(current, { lines: [{ lineIndex: 1, quantity: 6 }], ...order }, NOW),
    );
    expect(fieldOf(tooMuch)).toBe('lines[1]');
    expect((tooMuch as Error).message).toBe('lines[1]: consumes 6 but the line holds 5');
    const beyond = refusal(() =>
      consumeReservation(
        current,
        {
          lines: [
            { lineIndex: 0, quantity: 1 },
            { lineIndex: 2, quantity: 1 },
          ],
          ...order,
        },
        NOW,
      ),
    );
    expect(fieldOf(beyond)).toBe('lines[1].line_index');
    expect(current).toEqual(before);
  });

  it('refuses a reservation that is not active, naming its state', () => {
    refusesInactive((current, nowMs) => consumeReservation(current, { lines: [], ...order }, nowMs));
  });
});

describe('changeReservationQuantities', () => {
  it("frees a decrease from the line's last node first, ending holds that reach zero", () => {
    const current = stored([
      [atNode(2), { N1: 2 }],
      [inGroup(5, true), { N1: 2, N2: 3 }],
    ]);
    const t = changeReservationQuantities(current, { lines: [{ lineIndex: 1, quantity: 1 }] }, NOW);
    expect(t.reservation.lines[0]).toEqual(current.reservation.lines[0]);
    expect(t.reservation.lines[1]).toEqual({
      line: inGroup(1, true),
      allocations: [{ lineIndex: 1, nodeId: 'N1', quantity: 1 }],
      consumedQuantity: 0,
    });
    expect(holdsAfter(t.holds)).toEqual([
      { holdId: 3, quantity: 0, state: 'RELEASED', freed: 3 },
      { holdId: 2, quantity: 1, state: 'HELD', freed: 1 },
    ]);
    expect([t.reservation.state, t.reservation.updateMs, t.increases, t.grown, t.demand, t.event]).toEqual([
      'ACTIVE',
      NOW,
      [],
      [],
      [],
      'changed',
    ]);
  });

  it('keeps an active reservation whose lines are all set to zero', () => {
    const t = changeReservationQuantities(
      stored([[atNode(2), { N1: 2 }]]),
      { lines: [{ lineIndex: 0, quantity: 0 }] },
      NOW,
    );
    expect([t.reservation.state, t.reservation.lines[0]?.line.quantity, t.reservation.lines[0]?.allocations]).toEqual([
      'ACTIVE',
      0,
      [],
    ]);
    expect(holdsAfter(t.holds)).toEqual([{ holdId: 1, quantity: 0, state: 'RELEASED', freed: 2 }]);
  });

  it('changes nothing for a line set to what it holds', () => {
    const current = stored([[atNode(2), { N1: 2 }]]);
    const t = changeReservationQuantities(current, { lines: [{ lineIndex: 0, quantity: 2 }] }, NOW);
    expect([t.reservation.lines, t.holds, t.increases]).toEqual([current.reservation.lines, [], []]);
  });

  it("lets an increase use the line's node, the node a whole group line is held at, or the group for a split line", () => {
    const current = stored([
      [atNode(2, 'N3'), { N3: 2 }],
      [inGroup(4, false), { N2: 4 }],
      [inGroup(5, true, 'C'), { N1: 2, N2: 3 }],
    ]);
    const t = changeReservationQuantities(
      current,
      {
        lines: [
          { lineIndex: 0, quantity: 3 },
          { lineIndex: 1, quantity: 6 },
          { lineIndex: 2, quantity: 9 },
        ],
      },
      NOW,
    );
    expect(t.increases.map((i) => [i.lineIndex, i.quantity, i.candidates])).toEqual([
      [0, 1, { nodeIds: ['N3'] }],
      [1, 2, { nodeIds: ['N2'] }],
      [2, 4, { distributionGroupId: 'G' }],
    ]);
    // Until the increases are held, the lines keep what they hold.
    expect(t.reservation.lines).toEqual(current.reservation.lines);
    expect(t.holds).toEqual([]);
  });

  it('lets a whole group line that holds nothing any more use the group again', () => {
    const t = changeReservationQuantities(
      stored([[inGroup(0, false), {}]]),
      { lines: [{ lineIndex: 0, quantity: 2 }] },
      NOW,
    );
    expect(t.increases.map((i) => i.candidates)).toEqual([{ distributionGroupId: 'G' }]);
  });

  it('refuses a line the reservation does not have', () => {
    const current = stored([[atNode(2), { N1: 2 }]]);
    expect(
      fieldOf(refusal(() => changeReservationQuantities(current, { lines: [{ lineIndex: 1, quantity: 3 }] }, NOW))),
    ).toBe('lines[0].line_index');
  });

  it('refuses a reservation that is not active, naming its state', () => {
    refusesInactive((current, nowMs) =>
      changeReservationQuantities(current, { lines: [{ lineIndex: 0, quantity: 1 }] }, nowMs),
    );
  });
});

describe('increaseDemands and holdIncreases', () => {
  const current = stored([
    [atNode(2), { N1: 2 }],
    [inGroup(5, true), { N1: 2, N2: 3 }],
    [atNode(4, 'N2'), { N2: 4 }],
  ]);
  const change = changeReservationQuantities(
    current,
    {
      lines: [
        { lineIndex: 0, quantity: 3 },
        { lineIndex: 1, quantity: 8 },
        { lineIndex: 2, quantity: 1 },
      ],
    },
    NOW,
  );
  const at = (itemId: string, nodeId: string, segment = UNSEGMENTED) =>
    positionKeyId({ item: itemKey(itemId), nodeId, segment });

  it("asks for the increases at their nodes, and at the group's nodes in priority order", () => {
    const demands = increaseDemands(change.increases, (id) => (id === 'G' ? ['N2', 'N3', 'N1'] : undefined));
    expect(demands.map((d) => [d.lineIndex, d.quantity, d.candidateNodes, d.allowSplit])).toEqual([
      [0, 1, ['N1'], false],
      [1, 3, ['N2', 'N3', 'N1'], true],
    ]);
    expect(increaseDemands(change.increases, () => undefined)[1]?.candidateNodes).toEqual([]);
  });

  it('adds the planned units to the lines, next to the decreases of the same change', () => {
    const demands = increaseDemands(change.increases, () => ['N2', 'N3', 'N1']);
    const balance = unitsBalance([
      [at('A', 'N1'), 1],
      [at('B', 'N2', WEB), 1],
      [at('B', 'N3', WEB), 5],
    ]);
    const t = holdIncreases(change, demands, balance);
    expect(t.grown).toEqual([
      { lineIndex: 0, nodeId: 'N1', quantity: 1 },
      { lineIndex: 1, nodeId: 'N2', quantity: 1 },
      { lineIndex: 1, nodeId: 'N3', quantity: 2 },
    ]);
    expect(t.reservation.lines.map((l) => [l.line.quantity, l.allocations.map((a) => [a.nodeId, a.quantity])])).toEqual(
      [
        [3, [['N1', 3]]],
        [
          8,
          [
            ['N1', 2],
            ['N2', 4],
            ['N3', 2],
          ],
        ],
        [1, [['N2', 1]]],
      ],
    );
    expect(holdsAfter(t.holds)).toEqual([{ holdId: 4, quantity: 1, state: 'HELD', freed: 3 }]);
    expect(t.event).toBe('changed');
    expect('increases' in t).toBe(false);
    expect(balance.free(at('B', 'N3', WEB))).toBe(3);
  });

  it('refuses the whole change when any increase falls short, naming each short line', () => {
    const demands = increaseDemands(change.increases, () => ['N2']);
    const err = refusal(() => holdIncreases(change, demands, unitsBalance([[at('A', 'N1'), 1]])));
    expect(err).toBeInstanceOf(InsufficientAvailabilityError);
    expect((err as InsufficientAvailabilityError).shortfalls).toEqual([
      { lineIndex: 1, itemId: 'B', location: 'G', requested: 3, available: 0, own: 0, borrowable: 0 },
    ]);
  });
});

describe('expireReservation', () => {
  it('ends an active reservation past its expiry: every hold still held expires and frees its units', () => {
    const current = withHoldExpiredUnderneath(stored([[inGroup(5, true), { N1: 2, N2: 3 }]]));
    const t = expireReservation(current, EXPIRY);
    expect([t.reservation.state, t.reservation.lines[0]?.allocations, t.reservation.updateMs]).toEqual([
      'EXPIRED',
      [],
      EXPIRY,
    ]);
    expect(holdsAfter(t.holds)).toEqual([{ holdId: 2, quantity: 3, state: 'EXPIRED', freed: 3 }]);
    expect([t.grown, t.demand, t.event]).toEqual([[], [], 'expired']);
  });

  it('refuses a reservation before its expiry, or one that ended otherwise', () => {
    const early = refusal(() => expireReservation(stored([[atNode(2), { N1: 2 }]]), EXPIRY - 1));
    expect(early).toBeInstanceOf(ReservationNotExpiredError);
    expect((early as ReservationNotExpiredError).metadata).toEqual({
      reservation_id: 'R1',
      expire_time: new Date(EXPIRY).toISOString(),
    });
    for (const state of ['RELEASED', 'CONSUMED', 'EXPIRED'] as const) {
      const err = refusal(() => expireReservation(stored([[atNode(2), {}]], { state }), EXPIRY));
      expect([err instanceof ReservationNotActiveError, (err as ReservationNotActiveError).state]).toEqual([
        true,
        state,
      ]);
    }
  });
});

describe('reservationAsOf', () => {
  it('shows an active reservation past its expiry as expired and holding nothing', () => {
    const { reservation } = stored([[atNode(2), { N1: 2 }]]);
    expect(reservationAsOf(reservation, NOW)).toEqual(reservation);
    expect(reservationAsOf(reservation, EXPIRY)).toEqual({
      ...reservation,
      state: 'EXPIRED',
      lines: [{ ...reservation.lines[0], allocations: [] }],
    });
    const consumed = { ...reservation, state: 'CONSUMED' as const };
    expect(reservationAsOf(consumed, EXPIRY)).toEqual(consumed);
  });
});
