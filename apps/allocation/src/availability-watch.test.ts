import { randomUUID } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { inTransaction, readOutbox, stampStreamPositions, trimStream } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { promisify, startTestService, type TestService } from './testing/harness';
import { atNode, createNodes, defineSegments, item, onhand } from './testing/stock';
import { positionId, watchAvailability, type Watcher } from './testing/watch';

/**
 * AvailabilityService.WatchAvailability against the real server: a snapshot, then every change of the
 * watched positions (reservations, supply, demand, loans, rebalances) coalesced, levels in threshold mode,
 * resume tokens across random disconnects, backpressure, limits and shutdown. The sequencer runs as in
 * production (every 100 ms, and at once after each commit).
 */

const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const DAY_MS = 86_400_000;

describeEachDatabase('availability watches', (dialect) => {
  let t: TestService;
  const open: Watcher[] = [];
  const watch = (request: Partial<pb.WatchAvailabilityRequest>, options?: Record<string, number>) => {
    const w = watchAvailability(t.address, request, options);
    open.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await startTestService(dialect, { INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '100' });
    await createNodes(t.clients, ['DC1', 'DC2']);
    await defineSegments(t.address, [STORE]);
  });
  afterEach(() => {
    open.splice(0).forEach((w) => w.cancel());
  });
  afterAll(async () => {
    await t.stop();
  });

  const adjust = (itemId: string, nodeId: string, quantity: number, segment: pb.SegmentKey = POOL) =>
    t.clients.supply.adjustSupply({
      requestId: randomUUID(),
      lines: [
        {
          key: {
            item: item(itemId),
            nodeId,
            segment,
            supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
            etaTime: undefined,
          },
          quantityDelta: quantity,
          sourceTime: new Date(),
          reason: '',
        },
      ],
    });
  const reserve = (lines: pb.ReservationLine[]) =>
    t.clients.reservations.reserve({
      reservationId: randomUUID(),
      lines,
      expireTime: new Date(Date.now() + 3_600_000),
    });
  /** What GetNodeAvailability says of a position now. */
  const truth = async (itemId: string, nodeId: string, segment: pb.SegmentKey = POOL) =>
    (await t.clients.availability.getNodeAvailability({ item: item(itemId), nodeId, segment, asOfTime: undefined }))
      .availability!;
  /** Waits until the watcher shows, for each position, what GetNodeAvailability says. */
  const showsTruth = async (
    w: Watcher,
    positions: Array<[string, string, pb.SegmentKey?]>,
    latest: () => ReadonlyMap<string, pb.AvailabilityUpdate> = () => w.latest,
  ) => {
    const expected = await Promise.all(positions.map(([i, n, s]) => truth(i, n, s)));
    const id = ([i, n, s]: [string, string, pb.SegmentKey?]) =>
      positionId({ item: item(i), nodeId: n, segment: s ?? POOL } as pb.PositionAvailabilityChanged);
    await w.until(() =>
      positions.every((p, k) => {
        const shown = latest().get(id(p))?.position;
        const want = expected[k]!;
        return shown?.available === want.available && shown.borrowed === want.borrowed && shown.lent === want.lent;
      }),
    );
  };
  /** Every change update's (position, sequence), to check that none comes twice and each position's only grow. */
  const changeSequences = (watchers: readonly Watcher[]) => {
    const byPosition = new Map<string, number[]>();
    for (const w of watchers)
      for (const m of w.messages.filter((m) => !m.snapshot))
        for (const u of m.updates) {
          const id = positionId(u.position);
          byPosition.set(id, [...(byPosition.get(id) ?? []), u.sequence]);
        }
    return byPosition;
  };

  it('opens with a snapshot, then sends the changes of reservations, supply and demand, several per message', async () => {
    await onhand(t.clients, [
      { itemId: 'W1', nodeId: 'DC1', quantity: 10 },
      { itemId: 'W2', nodeId: 'DC1', quantity: 20 },
      { itemId: 'W1', nodeId: 'DC2', quantity: 5 },
    ]);
    const w = watch({ itemIds: ['W1', 'W2'], nodeIds: ['DC1'] });
    const snapshot = await w.snapshot();
    expect(snapshot.map((u) => [positionId(u.position), u.position?.available, u.sequence]).sort()).toEqual([
      ['W1@DC1:/', 10, 0],
      ['W2@DC1:/', 20, 0],
    ]);
    const complete = w.messages.find((m) => m.snapshotComplete)!;
    expect(complete.resumeToken).not.toBe('');

    await reserve([atNode('W1', 'DC1', 3)]);
    await showsTruth(w, [['W1', 'DC1']]);
    expect(w.latest.get('W1@DC1:/')?.position).toMatchObject({ available: 7, reservedQuantity: 3 });
    expect(w.latest.get('W1@DC1:/')?.sequence).toBeGreaterThan(complete.sequence);

    await onhand(t.clients, [
      { itemId: 'W1', nodeId: 'DC1', quantity: 12 },
      { itemId: 'W2', nodeId: 'DC1', quantity: 25 },
      { itemId: 'W2', nodeId: 'DC2', quantity: 99 }, // not watched
    ]);
    await showsTruth(w, [
      ['W1', 'DC1'],
      ['W2', 'DC1'],
    ]);
    // One transaction moved both: one message.
    expect(w.messages.some((m) => m.updates.length === 2)).toBe(true);

    await t.clients.demand.adjustDemand({
      requestId: randomUUID(),
      lines: [
        {
          key: {
            item: item('W2'),
            nodeId: 'DC1',
            segment: undefined,
            demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
            orderReference: 'SO-1',
          },
          quantityDelta: 4,
          sourceTime: new Date(),
          reason: '',
        },
      ],
    });
    await showsTruth(w, [['W2', 'DC1']]);
    expect(w.latest.get('W2@DC1:/')?.position).toMatchObject({ available: 21, demandQuantity: 4 });
    // Nothing about DC2 or other items came.
    expect(w.messages.flatMap((m) => m.updates.map((u) => positionId(u.position)))).not.toContain('W2@DC2:/');
    for (const sequences of changeSequences([w]).values())
      expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
  });

  it("shows a borrowing segment's loan and the pool's figure move together, and a rebalance's moves", async () => {
    const rules = promisify(new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure()));
    await rules.setConsumptionRules({
      requestId: 'watch-rules-1',
      borrowingEnabled: true,
      segments: [
        { segment: STORE, mayBorrow: true, capQuantity: undefined, capRatio: undefined, keepInPool: undefined },
      ],
    });
    await onhand(t.clients, [{ itemId: 'LOAN', nodeId: 'DC1', quantity: 10 }]);
    await adjust('LOAN', 'DC1', 2, STORE);
    const w = watch({ itemIds: ['LOAN'], segments: [STORE, POOL] });
    await w.snapshot();
    await reserve([{ ...atNode('LOAN', 'DC1', 5), segment: STORE }]);
    await showsTruth(w, [
      ['LOAN', 'DC1', STORE],
      ['LOAN', 'DC1', POOL],
    ]);
    expect(w.latest.get('LOAN@DC1:CHANNEL/STORE')?.position).toMatchObject({ borrowed: 3, available: 7 });
    expect(w.latest.get('LOAN@DC1:/')?.position).toMatchObject({ lent: 3, available: 7 });

    // A rebalance moves supply between the pool and the segment: both are sent.
    const plans = promisify(new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure()));
    const rebalance = promisify(new pb.RebalanceServiceClient(t.address, credentials.createInsecure()));
    await plans.setAllocationPlan({
      requestId: 'watch-plan-1',
      plan: {
        segmentType: 'CHANNEL',
        version: 0,
        enabled: true,
        requestId: '',
        rules: [
          {
            ruleId: 'half',
            rank: 1,
            conditions: { itemIds: ['LOAN'], nodeIds: [], productClass: undefined },
            strategy: {
              fixed: {},
              window: undefined,
              segments: [
                { segment: STORE, basisPoints: 5000, minimum: undefined, margin: undefined },
                { segment: POOL, basisPoints: 5000, minimum: undefined, margin: undefined },
              ],
            },
          },
        ],
      },
    });
    const before = w.messages.length;
    await rebalance.rebalance({
      requestId: 'watch-rebalance-1',
      segmentType: 'CHANNEL',
      itemIds: ['LOAN'],
      nodeIds: ['DC1'],
      actor: 'test',
      dryRun: false,
      pageSize: 0,
      pageToken: '',
    });
    await showsTruth(w, [
      ['LOAN', 'DC1', STORE],
      ['LOAN', 'DC1', POOL],
    ]);
    expect(w.messages.length).toBeGreaterThan(before);
    await plans.setAllocationPlan({
      requestId: 'watch-plan-2',
      plan: { segmentType: 'CHANNEL', version: 0, enabled: false, requestId: '', rules: [] },
    });

    // New consumption rules move figures without position events: the watcher is sent them re-read.
    await rules.setConsumptionRules({ requestId: 'watch-rules-2', borrowingEnabled: false, segments: [] });
    await showsTruth(w, [
      ['LOAN', 'DC1', STORE],
      ['LOAN', 'DC1', POOL],
    ]);
  });

  it("watches a distribution group's nodes, one update per node", async () => {
    await t.clients.nodes.createDistributionGroup({
      requestId: 'watch-group',
      distributionGroup: { distributionGroupId: 'WATCH_DG', nodeIds: ['DC2'], description: '' },
    });
    await onhand(t.clients, [
      { itemId: 'DG1', nodeId: 'DC1', quantity: 3 },
      { itemId: 'DG1', nodeId: 'DC2', quantity: 4 },
    ]);
    const w = watch({ itemIds: ['DG1'], distributionGroupId: 'WATCH_DG' });
    expect((await w.snapshot()).map((u) => positionId(u.position))).toEqual(['DG1@DC2:/']);
    await reserve([atNode('DG1', 'DC1', 1)]);
    await reserve([atNode('DG1', 'DC2', 1)]);
    await showsTruth(w, [['DG1', 'DC2']]);
    expect(w.messages.flatMap((m) => m.updates.map((u) => positionId(u.position)))).not.toContain('DG1@DC1:/');
  });

  it('sends only level crossings in threshold mode, with the most specific thresholds', async () => {
    await onhand(t.clients, [
      { itemId: 'LVL', nodeId: 'DC1', quantity: 20 },
      { itemId: 'LVL', nodeId: 'DC2', quantity: 20 },
    ]);
    const w = watch({
      itemIds: ['LVL'],
      mode: pb.WatchMode.WATCH_MODE_THRESHOLDS,
      defaultThresholds: { lowAtMost: 2, highAtLeast: 10 },
      thresholdOverrides: [{ itemId: 'LVL', nodeId: 'DC2', thresholds: { lowAtMost: 15, highAtLeast: 30 } }],
    });
    const snapshot = await w.snapshot();
    const levels = () => new Map([...w.latest].map(([id, u]) => [id, [u.previousLevel, u.level]]));
    const { AVAILABILITY_LEVEL_UNSPECIFIED: NONE, AVAILABILITY_LEVEL_LOW: LOW } = pb.AvailabilityLevel;
    const { AVAILABILITY_LEVEL_MEDIUM: MEDIUM, AVAILABILITY_LEVEL_HIGH: HIGH } = pb.AvailabilityLevel;
    expect(snapshot).toHaveLength(2);
    expect(levels()).toEqual(
      new Map([
        ['LVL@DC1:/', [NONE, HIGH]],
        ['LVL@DC2:/', [NONE, MEDIUM]],
      ]),
    );
    await reserve([atNode('LVL', 'DC1', 15)]); // 5: MEDIUM
    await w.until(() => w.latest.get('LVL@DC1:/')?.level === MEDIUM);
    const sent = w.messages.length;
    await reserve([atNode('LVL', 'DC1', 1)]); // 4: still MEDIUM, nothing sent
    await reserve([atNode('LVL', 'DC2', 6)]); // 14: LOW at DC2 by its own thresholds
    await w.until(() => w.latest.get('LVL@DC2:/')?.level === LOW);
    expect(levels().get('LVL@DC2:/')).toEqual([MEDIUM, LOW]);
    expect(w.messages.slice(sent).flatMap((m) => m.updates.map((u) => positionId(u.position)))).toEqual(['LVL@DC2:/']);
    expect(w.latest.get('LVL@DC1:/')?.position?.available).toBe(5);
  });

  it('resumes with its token after random disconnects during a burst: nothing missed, nothing twice', async () => {
    const items = ['R1', 'R2', 'R3'];
    await onhand(
      t.clients,
      items.map((itemId) => ({ itemId, nodeId: 'DC1', quantity: 1000 })),
    );
    const request = { itemIds: items, nodeIds: ['DC1'] };
    const sessions: Watcher[] = [watch(request)];
    await sessions[0]!.snapshot();
    let burstDone = false;
    const burst = (async () => {
      for (let k = 0; k < 60; k++) await Promise.all(items.map((i) => adjust(i, 'DC1', -1)));
      burstDone = true;
    })();
    let disconnects = 0;
    while (!burstDone) {
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      const current = sessions.at(-1)!;
      if (current.token() === '') continue;
      current.cancel();
      sessions.push(watch({ ...request, resumeToken: current.token() }));
      disconnects++;
    }
    await burst;
    const last = sessions.at(-1)!;
    // What the caller knows: every session's updates, in order.
    const known = () => new Map(sessions.flatMap((w) => [...w.latest]));
    await showsTruth(
      last,
      items.map((i) => [i, 'DC1']),
      known,
    );
    expect(disconnects).toBeGreaterThan(2);
    // Each position's sequences across every session only grow: no update came twice.
    const sequences = changeSequences(sessions);
    for (const seen of sequences.values()) expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b));
    // And the last one each position was sent is its last event in the stream.
    const events = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 1_000_000 })).filter(
      (e) => e.positionAvailabilityChanged && items.includes(e.positionAvailabilityChanged.item?.itemId ?? ''),
    );
    for (const itemId of items) {
      const lastEvent = events.filter((e) => e.positionAvailabilityChanged?.item?.itemId === itemId).at(-1)!;
      expect(lastEvent.positionAvailabilityChanged?.available).toBe(940);
      expect(sequences.get(`${itemId}@DC1:/`)?.at(-1)).toBeGreaterThan(0);
    }
  });

  it('gives watches that open together each its own snapshot, although they share reads', async () => {
    await onhand(t.clients, [
      { itemId: 'S1', nodeId: 'DC1', quantity: 11 },
      { itemId: 'S1', nodeId: 'DC2', quantity: 12 },
      { itemId: 'S2', nodeId: 'DC1', quantity: 21 },
      { itemId: 'S2', nodeId: 'DC2', quantity: 22 },
    ]);
    const requests: Array<Partial<pb.WatchAvailabilityRequest>> = [
      { itemIds: ['S1'], nodeIds: ['DC1'] },
      { itemIds: ['S2'], nodeIds: ['DC2'] },
      { itemIds: ['S1', 'S2'], nodeIds: ['DC2'] },
      { itemIds: ['S2'] },
    ];
    const watchers = Array.from({ length: 5 }, () => requests.map((r) => watch(r))).flat();
    const snapshots = await Promise.all(watchers.map((w) => w.snapshot()));
    const shown = snapshots.map((updates) =>
      updates.map((u) => `${positionId(u.position)}=${u.position?.available}`).sort(),
    );
    const expected = [['S1@DC1:/=11'], ['S2@DC2:/=22'], ['S1@DC2:/=12', 'S2@DC2:/=22'], ['S2@DC1:/=21', 'S2@DC2:/=22']];
    expect(shown).toEqual(Array.from({ length: 5 }, () => expected).flat());
  });

  it('opens watches during a burst of changes, each snapshot followed by exactly the changes after it', async () => {
    const items = ['B1', 'B2'];
    await onhand(
      t.clients,
      items.map((itemId) => ({ itemId, nodeId: 'DC1', quantity: 500 })),
    );
    let done = false;
    const burst = (async () => {
      for (let k = 0; k < 40; k++) await Promise.all(items.map((i) => adjust(i, 'DC1', -1)));
      done = true;
    })();
    const watchers: Watcher[] = [];
    while (!done) {
      const w = watch({ itemIds: items, nodeIds: ['DC1'] });
      watchers.push(w);
      await w.snapshot();
    }
    await burst;
    for (const w of watchers) {
      await showsTruth(
        w,
        items.map((i) => [i, 'DC1']),
      );
      // Snapshot first, then only changes with higher sequences than it covers, each once.
      const covered = w.messages.find((m) => m.snapshotComplete)!.sequence;
      for (const sequences of changeSequences([w]).values()) {
        expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
        expect(sequences.every((s) => s > covered)).toBe(true);
      }
    }
    expect(watchers.length).toBeGreaterThan(1);
  });

  it('ends a watch whose caller does not read with RESOURCE_EXHAUSTED and a token that loses nothing', async () => {
    const own = await startTestService(dialect, { INVENTORY_WATCH_BUFFER_POSITIONS: '50' });
    try {
      await createNodes(own.clients, ['DC1']);
      const itemIds = Array.from({ length: 100 }, (_, i) => `SLOW${i}`);
      await onhand(
        own.clients,
        itemIds.map((itemId) => ({ itemId, nodeId: 'DC1', quantity: 100 })),
      );
      const slow = watchAvailability(own.address, { nodeIds: ['DC1'] });
      await slow.snapshot();
      const token = slow.token();
      slow.pause();
      let err: Awaited<ReturnType<Watcher['failure']>> | undefined;
      void slow.failure().then((e) => (err = e));
      for (let round = 1; round <= 200 && !err; round++)
        await onhand(
          own.clients,
          itemIds.map((itemId) => ({ itemId, nodeId: 'DC1', quantity: 100 + round })),
        );
      slow.resume();
      const failure = await slow.failure();
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      const info = errorDetails(failure).errorInfo!;
      expect(info.reason).toBe('WATCH_BUFFER_FULL');
      expect(info.metadata).toMatchObject({ limit: '50' });
      expect(info.metadata['resume_token']).not.toBe('');
      expect(info.metadata['resume_token']).not.toBe(token);
      const again = watchAvailability(own.address, { nodeIds: ['DC1'], resumeToken: info.metadata['resume_token'] });
      const final = (
        await own.clients.availability.getNodeAvailability({
          item: item('SLOW0'),
          nodeId: 'DC1',
          segment: undefined,
          asOfTime: undefined,
        })
      ).availability!.available;
      await again.until(() => itemIds.every((i) => again.latest.get(`${i}@DC1:/`)?.position?.available === final));
      again.cancel();
    } finally {
      await own.stop();
    }
  });

  it('refuses watches past the limits per connection and per server with RESOURCE_EXHAUSTED', async () => {
    const own = await startTestService(dialect, {
      INVENTORY_WATCH_MAX_PER_CONNECTION: '2',
      INVENTORY_WATCH_MAX_TOTAL: '3',
    });
    const client = new pb.AvailabilityServiceClient(own.address, credentials.createInsecure());
    const calls: Array<{ cancel(): void }> = [];
    try {
      await createNodes(own.clients, ['DC1']);
      const onConnection = () => {
        const call = client.watchAvailability(pb.WatchAvailabilityRequest.fromPartial({ nodeIds: ['DC1'] }));
        calls.push(call);
        return new Promise<pb.WatchAvailabilityResponse | Error>((resolve) => {
          call.once('data', resolve);
          call.once('error', resolve);
        });
      };
      expect(await onConnection()).toMatchObject({ snapshotComplete: true });
      expect(await onConnection()).toMatchObject({ snapshotComplete: true });
      const third = (await onConnection()) as Error & { code: number };
      expect(third.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(errorDetails(third as never).errorInfo).toMatchObject({
        reason: 'WATCHER_LIMIT_REACHED',
        metadata: { scope: 'connection', limit: '2' },
      });
      // Another connection may still watch, up to the server's limit.
      const ownConnection = { 'grpc.use_local_subchannel_pool': 1 };
      const other = watchAvailability(own.address, { nodeIds: ['DC1'] }, ownConnection);
      await other.snapshot();
      const fourth = watchAvailability(own.address, { nodeIds: ['DC1'] }, ownConnection);
      const refused = await fourth.failure();
      expect(errorDetails(refused).errorInfo).toMatchObject({
        reason: 'WATCHER_LIMIT_REACHED',
        metadata: { scope: 'server', limit: '3' },
      });
      other.cancel();
    } finally {
      calls.forEach((c) => c.cancel());
      client.close();
      await own.stop();
    }
  });

  it('refuses bad requests with the field, unknown nodes, groups and segments', async () => {
    const fails = async (request: Partial<pb.WatchAvailabilityRequest>) => {
      const err = await watch(request).failure();
      const details = errorDetails(err);
      return [
        status[err.code],
        details.errorInfo?.reason,
        details.badRequest?.fieldViolations.map((v) => v.field) ?? details.errorInfo?.metadata,
      ];
    };
    expect(await fails({})).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', ['item_ids']]);
    expect(await fails({ nodeIds: ['DC1'], distributionGroupId: 'G' })).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      ['node_ids'],
    ]);
    expect(await fails({ itemIds: ['A'], mode: pb.WatchMode.WATCH_MODE_THRESHOLDS })).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      ['default_thresholds'],
    ]);
    expect(
      await fails({
        itemIds: ['A'],
        mode: pb.WatchMode.WATCH_MODE_THRESHOLDS,
        defaultThresholds: { lowAtMost: 5, highAtLeast: 5 },
      }),
    ).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', ['default_thresholds.high_at_least']]);
    expect(await fails({ itemIds: ['A'], resumeToken: 'not-a-token' })).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      ['resume_token'],
    ]);
    const first = watch({ itemIds: ['A'] });
    await first.snapshot();
    expect(await fails({ itemIds: ['B'], resumeToken: first.token() })).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      ['resume_token'],
    ]);
    expect((await fails({ nodeIds: ['NOPE'] })).slice(0, 2)).toEqual(['NOT_FOUND', 'NODE_NOT_FOUND']);
    expect((await fails({ distributionGroupId: 'NOPE' })).slice(0, 2)).toEqual([
      'NOT_FOUND',
      'DISTRIBUTION_GROUP_NOT_FOUND',
    ]);
    expect(
      (await fails({ itemIds: ['A'], segments: [{ segmentType: 'CHANNEL', segment: 'NOPE' }] })).slice(0, 2),
    ).toEqual(['FAILED_PRECONDITION', 'SEGMENT_NOT_DEFINED']);
  });

  it('refuses a token older than retention with OUT_OF_RANGE', async () => {
    await onhand(t.clients, [{ itemId: 'OLD', nodeId: 'DC1', quantity: 1 }]);
    const first = watch({ itemIds: ['OLD'] });
    await first.snapshot();
    first.cancel();
    await onhand(t.clients, [{ itemId: 'OLD', nodeId: 'DC1', quantity: 2 }]);
    await inTransaction(t.service.db, async (trx) => {
      await stampStreamPositions({ trx, limit: 1000, nowMs: Date.now() });
      await trimStream({ trx, beforeMs: Date.now() + DAY_MS, limit: 1_000_000 });
    });
    const err = await watch({ itemIds: ['OLD'], resumeToken: first.token() }).failure();
    expect(err.code).toBe(status.OUT_OF_RANGE);
    expect(errorDetails(err).errorInfo?.reason).toBe('STREAM_POSITION_TRIMMED');
  });

  it('ends its watches with UNAVAILABLE and a resume token when the service stops', async () => {
    const own = await startTestService(dialect);
    let stopping: Promise<void> | undefined;
    try {
      await createNodes(own.clients, ['DC1']);
      await onhand(own.clients, [{ itemId: 'STOP', nodeId: 'DC1', quantity: 5 }]);
      const w = watchAvailability(own.address, { itemIds: ['STOP'] });
      await w.snapshot();
      stopping = own.stop();
      const err = await w.failure();
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(errorDetails(err).errorInfo).toMatchObject({
        reason: 'SERVICE_STOPPING',
        metadata: { resume_token: w.token() },
      });
    } finally {
      await (stopping ?? own.stop());
    }
  });
});
