import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { inTransaction, readOutbox, stampStreamPositions, trimStream } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { holdOutboxEvent } from './testing/held-outbox';
import { startTestService, type TestService } from './testing/harness';
import { createNodes, defineSegments, item, onhand } from './testing/stock';
import { subscribe, type Subscription } from './testing/subscription';

/**
 * ChangeStreamService.Subscribe against the real server: every committed event once, gap-free and in the
 * order the sequencer saw commits (a transaction that took its outbox id early and committed late
 * included), resume, filters, and OUT_OF_RANGE once retention dropped what a caller asks for. The service's
 * sequencer and retention sweeper run only when the test asks.
 */

const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const DAY_MS = 86_400_000;

describeEachDatabase('change stream', (dialect) => {
  let t: TestService;
  const open: Subscription[] = [];
  const follow = (request: Partial<pb.SubscribeRequest> = {}) => {
    const s = subscribe(t.address, request);
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await startTestService(dialect, {
      INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '0',
      INVENTORY_STREAM_POLL_INTERVAL_MS: '20',
    });
    await createNodes(t.clients, ['DC1', 'DC2']);
    await defineSegments(t.address, [STORE]);
  });
  afterEach(() => {
    open.splice(0).forEach((s) => s.cancel());
  });
  afterAll(async () => {
    await t.stop();
  });

  /** Every event in the outbox, by row id. */
  const outbox = () => readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 100_000 });
  const stamp = () => t.service.streamSequencer.stampOnce();
  /** The last stream position given (retention may have trimmed the rows, never the position). */
  const lastSequence = async () =>
    Number((await t.database.db.knex('change_stream_state').first('last_sequence')).last_sequence);
  const sequences = (events: readonly pb.ChangeEvent[]) => events.map((e) => e.sequence);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('streams every committed event once, gap-free from 1, with its commit time, then follows new ones', async () => {
    await onhand(t.clients, [{ itemId: 'A', nodeId: 'DC1', quantity: 5 }]);
    // Nothing is streamed before the sequencer has stamped it.
    const early = follow();
    await stamp();
    const written = await outbox();
    const all = await early.received(written.length);
    expect(sequences(all)).toEqual(range(1, written.length));
    expect(new Set(all.map((e) => e.eventId))).toEqual(new Set(written.map((e) => e.eventId)));
    for (const e of all) expect(e.commitTime!.getTime()).toBeGreaterThanOrEqual(e.occurTime!.getTime());

    await onhand(t.clients, [{ itemId: 'A', nodeId: 'DC1', quantity: 6 }]);
    await stamp();
    const more = (await outbox()).length;
    expect(more).toBeGreaterThan(written.length);
    expect(sequences(await early.received(more))).toEqual(range(1, more));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(early.events).toHaveLength(more);
  });

  it('resumes after a sequence with exactly the events that followed it', async () => {
    await onhand(t.clients, [{ itemId: 'B', nodeId: 'DC1', quantity: 1 }]);
    await stamp();
    const total = (await outbox()).length;
    const from = follow({ afterSequence: 3 });
    const resumed = await from.received(total - 3);
    expect(sequences(resumed)).toEqual(range(4, total));
    const everything = await follow().received(total);
    expect(resumed).toEqual(everything.slice(3));
  });

  // SQLite runs one writer at a time: no transaction can commit behind a later one there.
  if (dialect === 'mysql')
    it('delivers an event whose transaction took its id early and committed after later ones, exactly once', async () => {
      await stamp();
      const before = (await outbox()).length;
      const stream = follow({ afterSequence: before });
      const late = await holdOutboxEvent(t.service.db);
      const held = late.event;
      // Later changes commit in parallel while the held transaction stays open, and are streamed.
      await Promise.all(
        ['C1', 'C2', 'C3', 'C4'].map((itemId) => onhand(t.clients, [{ itemId, nodeId: 'DC1', quantity: 2 }])),
      );
      expect(await stamp()).toBeGreaterThan(0);
      const committedFirst = (await outbox()).length - before;
      await stream.received(committedFirst);
      expect(stream.events.map((e) => e.eventId)).not.toContain(held.eventId);

      await late.commit();
      expect(await stamp()).toBe(1);
      const all = await stream.received(committedFirst + 1);
      expect(sequences(all)).toEqual(range(before + 1, before + committedFirst + 1));
      expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
      // The held event has the lowest outbox id of them all, and the last stream position.
      const rows = (await outbox()).slice(before);
      expect(rows.map((e) => e.eventId).indexOf(held.eventId)).toBe(0);
      expect(all.at(-1)?.eventId).toBe(held.eventId);
    });

  it('filters by event type, item, node and segment', async () => {
    await onhand(t.clients, [
      { itemId: 'F1', nodeId: 'DC1', quantity: 3 },
      { itemId: 'F2', nodeId: 'DC2', quantity: 4 },
    ]);
    await t.clients.supply.syncSupply({
      requestId: 'segmented',
      lines: [
        {
          key: { item: item('F1'), nodeId: 'DC2', segment: STORE, supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND },
          quantity: 7,
          sourceTime: new Date(),
        },
      ],
    });
    await stamp();
    const all = await outbox();
    const delivered: Array<[Subscription, number]> = [];
    const expectOnly = async (request: Partial<pb.SubscribeRequest>, keep: (e: pb.ChangeEvent) => boolean) => {
      const wanted = all.filter(keep).map((e) => e.eventId);
      expect(wanted.length).toBeGreaterThan(0);
      const s = follow(request);
      expect((await s.received(wanted.length)).map((e) => e.eventId)).toEqual(wanted);
      delivered.push([s, wanted.length]);
    };
    const supplyKey = (e: pb.ChangeEvent) => e.supplyChanged?.key ?? e.positionAvailabilityChanged;
    await expectOnly({ eventTypes: ['node_created'] }, (e) => e.type === 'node_created');
    await expectOnly({ itemIds: ['F1'] }, (e) => supplyKey(e)?.item?.itemId === 'F1');
    await expectOnly(
      { itemIds: ['F1'], nodeIds: ['DC2'], eventTypes: ['supply_changed'] },
      (e) => e.supplyChanged?.key?.item?.itemId === 'F1' && e.supplyChanged.key.nodeId === 'DC2',
    );
    await expectOnly(
      { nodeIds: ['DC2'] },
      (e) => supplyKey(e)?.nodeId === 'DC2' || e.nodeCreated?.node?.nodeId === 'DC2',
    );
    await expectOnly(
      { segments: [STORE] },
      (e) =>
        (supplyKey(e)?.segment?.segment === 'STORE' && supplyKey(e)?.segment?.segmentType === 'CHANNEL') ||
        e.segmentCreated?.segment?.segment === 'STORE',
    );
    // Each stream got exactly those and nothing more.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const [s, count] of delivered) expect(s.events).toHaveLength(count);

    const refused = await follow({ eventTypes: ['supply_changed', 'nope'], nodeIds: ['bad id'] }).failure();
    expect([refused.code, errorDetails(refused).badRequest?.fieldViolations.map((v) => v.field)]).toEqual([
      status.INVALID_ARGUMENT,
      ['event_types[1]', 'node_ids[0]'],
    ]);
  });

  it('refuses with OUT_OF_RANGE, naming the oldest sequence held, what retention trimmed', async () => {
    await onhand(t.clients, [{ itemId: 'R', nodeId: 'DC1', quantity: 1 }]);
    await stamp();
    const total = (await outbox()).length;
    // The first five events were committed eight days ago; the default retention is seven.
    await t.database.db
      .knex('outbox')
      .where('stream_sequence', '<=', 5)
      .update({ commit_ms: Date.now() - 8 * DAY_MS });
    expect(await t.service.streamRetention.trimOnce()).toBe(5);

    const trimmed = await follow({ afterSequence: 4 }).failure();
    expect([trimmed.code, errorDetails(trimmed).errorInfo]).toEqual([
      status.OUT_OF_RANGE,
      expect.objectContaining({
        reason: 'STREAM_POSITION_TRIMMED',
        metadata: { after_sequence: '4', oldest_sequence: '6' },
      }),
    ]);
    expect(sequences(await follow({ afterSequence: 5 }).received(total - 5))).toEqual(range(6, total));
    expect(sequences(await follow().received(total - 5))).toEqual(range(6, total));
  });

  it('fails a subscriber with OUT_OF_RANGE when retention drops events it has not read yet', async () => {
    await stamp();
    const total = await lastSequence();
    const behind = follow({ afterSequence: total });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await onhand(t.clients, [{ itemId: 'GONE', nodeId: 'DC1', quantity: 1 }]);
    // Stamped and trimmed at once, before the subscriber could read them.
    await inTransaction(t.service.db, async (trx) => {
      await stampStreamPositions({ trx, limit: 1000, nowMs: Date.now() });
      await trimStream({ trx, beforeMs: Date.now() + DAY_MS, limit: 100_000 });
    });
    const err = await behind.failure();
    const last = await lastSequence();
    expect(last).toBeGreaterThan(total);
    expect([err.code, errorDetails(err).errorInfo?.metadata]).toEqual([
      status.OUT_OF_RANGE,
      { after_sequence: String(total), oldest_sequence: String(last + 1) },
    ]);
    expect(behind.events).toEqual([]);
  });

  it('ends its streams with UNAVAILABLE and the position to resume after when the service stops', async () => {
    const own = await startTestService(dialect, {
      INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '0',
      INVENTORY_STREAM_POLL_INTERVAL_MS: '20',
    });
    let stopping: Promise<void> | undefined;
    try {
      await createNodes(own.clients, ['DC1']);
      await onhand(own.clients, [{ itemId: 'STOPPING', nodeId: 'DC1', quantity: 5 }]);
      await own.service.streamSequencer.stampOnce();
      const stamped = Number((await own.database.db.knex('change_stream_state').first('last_sequence')).last_sequence);
      // Only supply changes pass the filter, but the stream passes every position up to the last stamped.
      const s = subscribe(own.address, { eventTypes: ['supply_changed'] });
      await s.received(1);
      await new Promise((resolve) => setTimeout(resolve, 100)); // it reads on to the end
      stopping = own.stop();
      const err = await s.failure();
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(errorDetails(err).errorInfo).toMatchObject({
        reason: 'SERVICE_STOPPING',
        metadata: { resume_after_sequence: String(stamped) },
      });
    } finally {
      await (stopping ?? own.stop());
    }
  });

  it('stamps and streams a change of its own process at once, without waiting for the next round or poll', async () => {
    const own = await startTestService(dialect, {
      INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '60000',
      INVENTORY_STREAM_POLL_INTERVAL_MS: '60000',
    });
    try {
      await createNodes(own.clients, ['DC1']);
      // A round takes the lease; from then on commits wake the sequencer, and its stamps the subscribers.
      await own.service.streamSequencer.stampOnce();
      const s = subscribe(own.address, { eventTypes: ['supply_changed'] });
      await new Promise((resolve) => setTimeout(resolve, 100)); // it has read to the end and waits
      await onhand(own.clients, [{ itemId: 'WOKEN', nodeId: 'DC1', quantity: 5 }]);
      const [event] = await s.received(1, 10_000);
      expect(event?.supplyChanged?.key?.item?.itemId).toBe('WOKEN');
      s.cancel();
    } finally {
      await own.stop();
    }
  });
});
