import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { grpcError, promisify, startTestService, type Promisified, type TestService } from './testing/harness';
import { createNodes, item } from './testing/stock';

const NODE = 'SEG_DC';
const channel = (segment: string): pb.SegmentKey => ({ segmentType: 'CHANNEL', segment });
const segmentOf = (segmentType: string, segment: string, description = ''): pb.Segment => ({
  segmentType,
  segment,
  description,
  state: pb.SegmentState.SEGMENT_STATE_UNSPECIFIED,
  createTime: undefined,
  updateTime: undefined,
  retireTime: undefined,
});
const typeOf = (segmentType: string, description = ''): pb.SegmentType => ({
  segmentType,
  description,
  createTime: undefined,
});
const reasonOf = (err: ServiceError) => [err.code, errorDetails(err).errorInfo?.reason];
const fieldOf = (err: ServiceError) => errorDetails(err).errorInfo?.metadata['field'];

describeEachDatabase('segments', (dialect) => {
  let t: TestService;
  let client: pb.SegmentServiceClient;
  let segments: Promisified<pb.SegmentServiceClient>;
  beforeAll(async () => {
    t = await startTestService(dialect);
    client = new pb.SegmentServiceClient(t.address, credentials.createInsecure());
    segments = promisify(client);
    await createNodes(t.clients, [NODE]);
    await segments.createSegmentType({ requestId: 'type-channel', segmentType: typeOf('CHANNEL') });
    for (const name of ['STORE', 'ONLINE', 'MARKETPLACE']) {
      await segments.createSegment({ requestId: `segment-${name}`, segment: segmentOf('CHANNEL', name) });
    }
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  /** Every later sync of a key is dated after the one before, and all are in the past. */
  let tick = 0;
  const sourceTime = () => new Date(Date.now() - 600_000 + ++tick * 10);
  let requests = 0;
  const requestId = (prefix: string) => `${prefix}-${++requests}`;

  const onhandKey = (itemId: string, segment?: pb.SegmentKey): pb.SupplyKey => ({
    item: item(itemId),
    nodeId: NODE,
    segment,
    supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
    etaTime: undefined,
  });
  const orderKey = (itemId: string, segment?: pb.SegmentKey): pb.DemandKey => ({
    item: item(itemId),
    nodeId: NODE,
    segment,
    demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
    orderReference: '',
  });
  const syncSupply = (itemId: string, segment: pb.SegmentKey | undefined, quantity: number) =>
    t.clients.supply.syncSupply({
      requestId: requestId('supply'),
      lines: [{ key: onhandKey(itemId, segment), quantity, sourceTime: sourceTime() }],
    });
  const syncDemand = (itemId: string, segment: pb.SegmentKey | undefined, quantity: number) =>
    t.clients.demand.syncDemand({
      requestId: requestId('demand'),
      lines: [{ key: orderKey(itemId, segment), quantity, sourceTime: sourceTime() }],
    });
  const reserve = (reservationId: string, itemId: string, segment: pb.SegmentKey | undefined, quantity: number) =>
    t.clients.reservations.reserve({
      reservationId,
      lines: [
        { item: item(itemId), nodeId: NODE, distributionGroupId: undefined, segment, quantity, allowSplit: false },
      ],
      expireTime: undefined,
    });
  const available = async (itemId: string, segment?: pb.SegmentKey) =>
    (
      await t.clients.availability.getNodeAvailability({
        item: item(itemId),
        nodeId: NODE,
        segment,
        asOfTime: undefined,
      })
    ).availability?.available;
  const counts = async () => {
    const result: Record<string, number> = {};
    for (const table of ['segment_types', 'segments', 'outbox', 'idempotency_keys']) {
      result[table] = Number((await t.database.db.knex(table).count({ n: '*' }).first())?.n ?? 0);
    }
    return result;
  };

  it('creates a segment type and a segment, answers retries with the first answer and refuses taken ids', async () => {
    const type = await segments.createSegmentType({ requestId: 'type-web', segmentType: typeOf('WEB', 'web shop') });
    expect(type.segmentType).toMatchObject({ segmentType: 'WEB', description: 'web shop' });
    expect(type.segmentType?.createTime).toBeInstanceOf(Date);
    expect(await segments.createSegmentType({ requestId: 'type-web', segmentType: typeOf('WEB', 'web shop') })).toEqual(
      type,
    );
    expect((await segments.getSegmentType({ segmentType: 'WEB' })).segmentType).toEqual(type.segmentType);

    const takenType = await grpcError(
      segments.createSegmentType({ requestId: 'type-web-2', segmentType: typeOf('WEB') }),
    );
    expect(reasonOf(takenType)).toEqual([status.ALREADY_EXISTS, 'SEGMENT_TYPE_ALREADY_EXISTS']);
    expect(errorDetails(takenType).errorInfo?.metadata).toEqual({ segment_type: 'WEB' });
    const reused = await grpcError(segments.createSegmentType({ requestId: 'type-web', segmentType: typeOf('WEB2') }));
    expect(reasonOf(reused)).toEqual([status.ALREADY_EXISTS, 'REQUEST_ID_REUSED']);

    const created = await segments.createSegment({ requestId: 'web-store', segment: segmentOf('WEB', 'STORE', 'x') });
    expect(created.segment).toMatchObject({
      segmentType: 'WEB',
      segment: 'STORE',
      description: 'x',
      state: pb.SegmentState.SEGMENT_STATE_ACTIVE,
      retireTime: undefined,
    });
    expect(created.segment?.updateTime).toEqual(created.segment?.createTime);
    expect(await segments.createSegment({ requestId: 'web-store', segment: segmentOf('WEB', 'STORE', 'x') })).toEqual(
      created,
    );
    expect((await segments.getSegment({ segmentType: 'WEB', segment: 'STORE' })).segment).toEqual(created.segment);

    const takenSegment = await grpcError(
      segments.createSegment({ requestId: 'web-store-2', segment: segmentOf('WEB', 'STORE') }),
    );
    expect(reasonOf(takenSegment)).toEqual([status.ALREADY_EXISTS, 'SEGMENT_ALREADY_EXISTS']);
    expect(errorDetails(takenSegment).errorInfo?.metadata).toEqual({ segment_type: 'WEB', segment: 'STORE' });
    const reusedSegment = await grpcError(
      segments.createSegment({ requestId: 'web-store', segment: segmentOf('WEB', 'ONLINE') }),
    );
    expect(reasonOf(reusedSegment)).toEqual([status.ALREADY_EXISTS, 'REQUEST_ID_REUSED']);
  });

  it('answers NOT_FOUND for a type or segment that does not exist, and changes nothing', async () => {
    const before = await counts();
    const noType = await grpcError(segments.createSegment({ requestId: 'ghost-1', segment: segmentOf('GHOST', 'A') }));
    expect(reasonOf(noType)).toEqual([status.NOT_FOUND, 'SEGMENT_TYPE_NOT_FOUND']);
    expect(errorDetails(noType).errorInfo?.metadata).toEqual({ segment_type: 'GHOST' });
    expect(reasonOf(await grpcError(segments.getSegmentType({ segmentType: 'GHOST' })))).toEqual([
      status.NOT_FOUND,
      'SEGMENT_TYPE_NOT_FOUND',
    ]);
    const noSegment = await grpcError(segments.getSegment({ segmentType: 'CHANNEL', segment: 'GHOST' }));
    expect(reasonOf(noSegment)).toEqual([status.NOT_FOUND, 'SEGMENT_NOT_FOUND']);
    expect(errorDetails(noSegment).errorInfo?.metadata).toEqual({ segment_type: 'CHANNEL', segment: 'GHOST' });
    for (const call of [
      segments.updateSegment({ requestId: 'ghost-2', segmentType: 'CHANNEL', segment: 'GHOST', description: '' }),
      segments.retireSegment({ requestId: 'ghost-3', segmentType: 'CHANNEL', segment: 'GHOST' }),
    ]) {
      expect(reasonOf(await grpcError(call))).toEqual([status.NOT_FOUND, 'SEGMENT_NOT_FOUND']);
    }
    expect(
      reasonOf(
        await grpcError(
          segments.listSegments({ segmentType: 'GHOST', includeRetired: false, pageSize: 0, pageToken: '' }),
        ),
      ),
    ).toEqual([status.NOT_FOUND, 'SEGMENT_TYPE_NOT_FOUND']);
    expect(await counts()).toEqual(before);
  });

  it('refuses bad ids and descriptions, naming the field, and changes nothing', async () => {
    const before = await counts();
    const cases: Array<[Promise<unknown>, string]> = [
      [
        segments.createSegmentType({ requestId: 'bad-1', segmentType: typeOf('has space') }),
        'segment_type.segment_type',
      ],
      [
        segments.createSegmentType({ requestId: 'bad-2', segmentType: typeOf('T'.repeat(33)) }),
        'segment_type.segment_type',
      ],
      [segments.createSegmentType({ requestId: 'bad-3', segmentType: undefined }), 'segment_type.segment_type'],
      [segments.createSegmentType({ requestId: '', segmentType: typeOf('OK') }), 'request_id'],
      [
        segments.createSegmentType({ requestId: 'bad-4', segmentType: typeOf('OK', 'bell\u0007') }),
        'segment_type.description',
      ],
      [
        segments.createSegment({ requestId: 'bad-5', segment: segmentOf('CHANNEL', 'S'.repeat(65)) }),
        'segment.segment',
      ],
      [segments.createSegment({ requestId: 'bad-6', segment: segmentOf('CHANNEL', '') }), 'segment.segment'],
      [segments.createSegment({ requestId: 'bad-7', segment: segmentOf('', 'X') }), 'segment.segment_type'],
      [segments.createSegment({ requestId: 'bad-8', segment: segmentOf('CHANNEL', 'a/b') }), 'segment.segment'],
      [
        segments.updateSegment({
          requestId: 'bad-9',
          segmentType: 'CHANNEL',
          segment: 'STORE',
          description: 'd'.repeat(256),
        }),
        'description',
      ],
      [segments.retireSegment({ requestId: 'bad-10', segmentType: 'CHANNEL', segment: '' }), 'segment'],
      [segments.getSegment({ segmentType: '', segment: 'STORE' }), 'segment_type'],
      [segments.getSegmentType({ segmentType: '' }), 'segment_type'],
      [
        segments.listSegments({ segmentType: 'bad type', includeRetired: false, pageSize: 0, pageToken: '' }),
        'segment_type',
      ],
      [segments.listSegmentTypes({ pageSize: -1, pageToken: '' }), 'page_size'],
    ];
    for (const [call, field] of cases) {
      const err = await grpcError(call);
      expect([field, err.code, fieldOf(err)]).toEqual([field, status.INVALID_ARGUMENT, field]);
    }
    expect(await counts()).toEqual(before);
  });

  it('lists segment types and segments page by page, by type, and retired ones only when asked', async () => {
    for (const type of ['LIST_B', 'LIST_A']) {
      await segments.createSegmentType({ requestId: `list-${type}`, segmentType: typeOf(type) });
      for (const name of ['Z', 'M', 'A']) {
        await segments.createSegment({ requestId: `list-${type}-${name}`, segment: segmentOf(type, name) });
      }
    }
    await segments.retireSegment({ requestId: 'list-retire', segmentType: 'LIST_A', segment: 'M' });

    const all = async (
      call: (pageToken: string) => Promise<{ items: string[]; nextPageToken: string }>,
    ): Promise<string[]> => {
      const seen: string[] = [];
      let pageToken = '';
      do {
        const res = await call(pageToken);
        expect(res.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.items);
        pageToken = res.nextPageToken;
      } while (pageToken);
      return seen;
    };
    const types = await all(async (pageToken) => {
      const res = await segments.listSegmentTypes({ pageSize: 2, pageToken });
      return { items: res.segmentTypes.map((s) => s.segmentType), nextPageToken: res.nextPageToken };
    });
    expect(types.filter((s) => s.startsWith('LIST_'))).toEqual(['LIST_A', 'LIST_B']);
    expect(types).toEqual([...types].sort());

    const listed = (segmentType: string, includeRetired: boolean) =>
      all(async (pageToken) => {
        const res = await segments.listSegments({ segmentType, includeRetired, pageSize: 2, pageToken });
        return { items: res.segments.map((s) => `${s.segmentType}/${s.segment}`), nextPageToken: res.nextPageToken };
      });
    expect(await listed('LIST_A', false)).toEqual(['LIST_A/A', 'LIST_A/Z']);
    expect(await listed('LIST_A', true)).toEqual(['LIST_A/A', 'LIST_A/M', 'LIST_A/Z']);
    const everything = await listed('', true);
    expect(everything.filter((s) => s.startsWith('LIST_'))).toEqual([
      'LIST_A/A',
      'LIST_A/M',
      'LIST_A/Z',
      'LIST_B/A',
      'LIST_B/M',
      'LIST_B/Z',
    ]);
    expect(everything).toContain('CHANNEL/STORE');
    expect((await listed('', false)).filter((s) => s.startsWith('LIST_'))).toEqual([
      'LIST_A/A',
      'LIST_A/Z',
      'LIST_B/A',
      'LIST_B/M',
      'LIST_B/Z',
    ]);

    const first = await segments.listSegments({
      segmentType: 'LIST_A',
      includeRetired: true,
      pageSize: 1,
      pageToken: '',
    });
    const otherFilter = await grpcError(
      segments.listSegments({
        segmentType: 'LIST_B',
        includeRetired: true,
        pageSize: 1,
        pageToken: first.nextPageToken,
      }),
    );
    expect([otherFilter.code, fieldOf(otherFilter)]).toEqual([status.INVALID_ARGUMENT, 'page_token']);
    const garbage = await grpcError(segments.listSegmentTypes({ pageSize: 1, pageToken: 'garbage' }));
    expect([garbage.code, fieldOf(garbage)]).toEqual([status.INVALID_ARGUMENT, 'page_token']);
  });

  it('updates a description, idempotently, and announces every change in its own transaction', async () => {
    await segments.createSegmentType({ requestId: 'ev-type', segmentType: typeOf('EVENTS', 'for events') });
    await segments.createSegment({ requestId: 'ev-create', segment: segmentOf('EVENTS', 'ONE', 'first') });
    const updated = await segments.updateSegment({
      requestId: 'ev-update',
      segmentType: 'EVENTS',
      segment: 'ONE',
      description: 'second',
    });
    expect(updated.segment).toMatchObject({ description: 'second', state: pb.SegmentState.SEGMENT_STATE_ACTIVE });
    expect(updated.segment!.updateTime!.getTime()).toBeGreaterThanOrEqual(updated.segment!.createTime!.getTime());
    expect(
      await segments.updateSegment({
        requestId: 'ev-update',
        segmentType: 'EVENTS',
        segment: 'ONE',
        description: 'second',
      }),
    ).toEqual(updated);
    const reused = await grpcError(
      segments.updateSegment({ requestId: 'ev-update', segmentType: 'EVENTS', segment: 'ONE', description: 'third' }),
    );
    expect(reasonOf(reused)).toEqual([status.ALREADY_EXISTS, 'REQUEST_ID_REUSED']);
    const retired = await segments.retireSegment({ requestId: 'ev-retire', segmentType: 'EVENTS', segment: 'ONE' });

    const events = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 100_000 })).filter((e) =>
      ['ev-type', 'ev-create', 'ev-update', 'ev-retire'].includes(e.requestId),
    );
    expect(events.map((e) => [e.type, e.requestId])).toEqual([
      ['segment_type_created', 'ev-type'],
      ['segment_created', 'ev-create'],
      ['segment_updated', 'ev-update'],
      ['segment_retired', 'ev-retire'],
    ]);
    expect(events[0]?.segmentTypeCreated?.segmentType).toMatchObject({
      segmentType: 'EVENTS',
      description: 'for events',
    });
    expect(events[1]?.segmentCreated?.segment).toMatchObject({ segment: 'ONE', description: 'first' });
    expect(events[2]?.segmentUpdated).toEqual({ segment: updated.segment, previousDescription: 'first' });
    expect(events[3]?.segmentRetired).toEqual({ segment: retired.segment });
    for (const e of events) expect(e.auditType).toBe(pb.AuditType.AUDIT_TYPE_USER);
  });

  it('keeps supply, demand, reservations and availability of each segment apart from the others and the pool', async () => {
    const SKU = 'ISOLATED';
    await syncSupply(SKU, undefined, 20);
    await syncSupply(SKU, channel('STORE'), 10);
    await syncSupply(SKU, channel('ONLINE'), 5);
    const figures = async () => [
      await available(SKU),
      await available(SKU, channel('STORE')),
      await available(SKU, channel('ONLINE')),
      await available(SKU, channel('MARKETPLACE')),
    ];
    expect(await figures()).toEqual([20, 10, 5, 0]);

    const held = await reserve('iso-1', SKU, channel('STORE'), 4);
    expect(held.reservation?.lines[0]?.line?.segment).toEqual(channel('STORE'));
    expect(await figures()).toEqual([20, 6, 5, 0]);
    await syncDemand(SKU, channel('ONLINE'), 3);
    expect(await figures()).toEqual([20, 6, 2, 0]);
    await syncSupply(SKU, undefined, 25);
    expect(await figures()).toEqual([25, 6, 2, 0]);

    // No borrowing: STORE cannot take more than its own 6, whatever the pool holds.
    const short = await grpcError(reserve('iso-2', SKU, channel('STORE'), 7));
    expect(reasonOf(short)).toEqual([status.FAILED_PRECONDITION, 'INSUFFICIENT_AVAILABILITY']);
    expect(errorDetails(short).errorInfo?.metadata['line.0.available']).toBe('6');
    expect(reasonOf(await grpcError(reserve('iso-3', SKU, channel('MARKETPLACE'), 1)))).toEqual([
      status.FAILED_PRECONDITION,
      'INSUFFICIENT_AVAILABILITY',
    ]);
    await reserve('iso-4', SKU, undefined, 25);
    expect(await figures()).toEqual([0, 6, 2, 0]);

    const supplies = await t.clients.supply.getSupply({ item: item(SKU), nodeId: NODE, segment: channel('STORE') });
    expect(supplies.supplies.map((s) => [s.key?.segment, s.quantity])).toEqual([[channel('STORE'), 10]]);
    const demands = await t.clients.demand.getDemand({ item: item(SKU), nodeId: NODE, segment: channel('ONLINE') });
    expect(demands.demands.map((d) => [d.key?.segment, d.quantity])).toEqual([[channel('ONLINE'), 3]]);

    await t.clients.nodes.createDistributionGroup({
      requestId: 'iso-group',
      distributionGroup: { distributionGroupId: 'SEG_GROUP', nodeIds: [NODE], description: '', createTime: undefined },
    });
    const network = await t.clients.availability.getNetworkAvailability({
      item: item(SKU),
      distributionGroupId: 'SEG_GROUP',
      segment: channel('STORE'),
      asOfTime: undefined,
    });
    expect(network.availability?.available).toBe(6);
    const byDate = await t.clients.availability.getAvailabilityByDate({
      item: item(SKU),
      nodeId: NODE,
      distributionGroupId: undefined,
      segment: channel('ONLINE'),
      horizonTime: new Date(Date.now() + 86_400_000),
    });
    expect(byDate.currentAvailable).toBe(2);
    const explained = await t.clients.availability.explainAvailability({
      item: item(SKU),
      nodeId: NODE,
      distributionGroupId: undefined,
      segment: channel('STORE'),
      asOfTime: undefined,
    });
    expect(explained.available).toBe(6);
    expect(explained.nodes[0]?.supplies.map((s) => [s.key?.segment, s.quantity])).toEqual([[channel('STORE'), 10]]);
  });

  it('filters ListSupply and ListDemand by segment: unset for every segment, empty for the pool only', async () => {
    const SKU = 'LISTED';
    await syncSupply(SKU, undefined, 1);
    await syncSupply(SKU, channel('STORE'), 2);
    await syncSupply(SKU, channel('ONLINE'), 3);
    await syncDemand(SKU, undefined, 1);
    await syncDemand(SKU, channel('ONLINE'), 1);
    const supplyIn = async (segment: pb.SegmentKey | undefined) => {
      const quantities: number[] = [];
      let pageToken = '';
      do {
        const res = await t.clients.supply.listSupply({ nodeId: NODE, itemId: SKU, segment, pageSize: 1, pageToken });
        quantities.push(...res.supplies.map((s) => s.quantity));
        pageToken = res.nextPageToken;
      } while (pageToken);
      return quantities;
    };
    expect(await supplyIn(undefined)).toEqual([1, 2, 3]);
    expect(await supplyIn({ segmentType: '', segment: '' })).toEqual([1]);
    expect(await supplyIn(channel('ONLINE'))).toEqual([3]);
    expect(await supplyIn(channel('MARKETPLACE'))).toEqual([]);
    const demandIn = async (segment: pb.SegmentKey | undefined) =>
      (
        await t.clients.demand.listDemand({ nodeId: NODE, itemId: SKU, segment, pageSize: 0, pageToken: '' })
      ).demands.map((d) => d.key?.segment?.segment);
    expect(await demandIn(undefined)).toEqual(['', 'ONLINE']);
    expect(await demandIn({ segmentType: '', segment: '' })).toEqual(['']);
    expect(await demandIn(channel('ONLINE'))).toEqual(['ONLINE']);
    expect(await demandIn(channel('STORE'))).toEqual([]);

    const half = await grpcError(
      t.clients.supply.listSupply({
        nodeId: NODE,
        itemId: SKU,
        segment: { segmentType: 'CHANNEL', segment: '' },
        pageSize: 0,
        pageToken: '',
      }),
    );
    expect([half.code, fieldOf(half)]).toEqual([status.INVALID_ARGUMENT, 'segment.segment']);
    const first = await t.clients.supply.listSupply({
      nodeId: NODE,
      itemId: SKU,
      segment: undefined,
      pageSize: 1,
      pageToken: '',
    });
    const replayed = await grpcError(
      t.clients.supply.listSupply({
        nodeId: NODE,
        itemId: SKU,
        segment: channel('ONLINE'),
        pageSize: 1,
        pageToken: first.nextPageToken,
      }),
    );
    expect([replayed.code, fieldOf(replayed)]).toEqual([status.INVALID_ARGUMENT, 'page_token']);
  });

  it('refuses to retire a segment while supply, demand or an active hold remain, and retires it once they are gone', async () => {
    const SKU = 'RETIRING';
    await segments.createSegment({ requestId: 'ret-create', segment: segmentOf('CHANNEL', 'OUTLET') });
    const OUTLET = channel('OUTLET');
    await syncSupply(SKU, OUTLET, 5);
    await syncDemand(SKU, OUTLET, 2);
    await reserve('ret-hold', SKU, OUTLET, 1);
    // A hold past its expiry no longer counts, whether or not the sweeper has released it (it is off here).
    const expiresAt = Date.now() + 4000;
    await t.clients.reservations.reserve({
      reservationId: 'ret-expiring',
      lines: [
        {
          item: item(SKU),
          nodeId: NODE,
          distributionGroupId: undefined,
          segment: OUTLET,
          quantity: 1,
          allowSplit: false,
        },
      ],
      expireTime: new Date(expiresAt),
    });
    const retire = (id: string) => segments.retireSegment({ requestId: id, segmentType: 'CHANNEL', segment: 'OUTLET' });
    const remains = async (id: string) => {
      const before = await counts();
      const err = await grpcError(retire(id));
      expect(reasonOf(err)).toEqual([status.FAILED_PRECONDITION, 'SEGMENT_HOLDS_STOCK']);
      expect(await counts()).toEqual(before);
      return errorDetails(err).errorInfo?.metadata;
    };

    expect(await remains('ret-1')).toEqual({
      segment_type: 'CHANNEL',
      segment: 'OUTLET',
      supply_rows: '1',
      supply_units: '5',
      demand_rows: '1',
      demand_units: '2',
      active_holds: '2',
      held_units: '2',
    });
    await syncSupply(SKU, OUTLET, 0);
    expect(await remains('ret-2')).toMatchObject({
      supply_rows: '0',
      supply_units: '0',
      demand_rows: '1',
      active_holds: '2',
    });
    await syncDemand(SKU, OUTLET, 0);
    expect(await remains('ret-3')).toMatchObject({
      supply_rows: '0',
      demand_rows: '0',
      demand_units: '0',
      active_holds: '2',
    });
    await t.clients.reservations.releaseReservation({ requestId: 'ret-release', reservationId: 'ret-hold' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() + 50)));

    const retired = await retire('ret-4');
    expect(retired.segment).toMatchObject({ segment: 'OUTLET', state: pb.SegmentState.SEGMENT_STATE_RETIRED });
    expect(retired.segment?.retireTime).toBeInstanceOf(Date);
    expect(await retire('ret-4')).toEqual(retired);
    // Retiring again succeeds, changes nothing and announces nothing.
    const outboxBefore = (await counts())['outbox'];
    expect(await retire('ret-5')).toEqual(retired);
    expect((await counts())['outbox']).toBe(outboxBefore);
    expect((await segments.getSegment({ segmentType: 'CHANNEL', segment: 'OUTLET' })).segment).toEqual(retired.segment);

    // A retired segment cannot be created again, but its description can still change.
    const again = await grpcError(
      segments.createSegment({ requestId: 'ret-again', segment: segmentOf('CHANNEL', 'OUTLET') }),
    );
    expect(reasonOf(again)).toEqual([status.ALREADY_EXISTS, 'SEGMENT_ALREADY_EXISTS']);
    const described = await segments.updateSegment({
      requestId: 'ret-describe',
      segmentType: 'CHANNEL',
      segment: 'OUTLET',
      description: 'closed in 2026',
    });
    expect(described.segment).toMatchObject({
      description: 'closed in 2026',
      state: pb.SegmentState.SEGMENT_STATE_RETIRED,
    });
  });

  it('refuses a retired segment in supply, demand, reservations and availability, like an undefined one', async () => {
    const SKU = 'REFUSED';
    await segments.createSegment({ requestId: 'gone-create', segment: segmentOf('CHANNEL', 'GONE') });
    await segments.retireSegment({ requestId: 'gone-retire', segmentType: 'CHANNEL', segment: 'GONE' });
    const GONE = channel('GONE');
    const before = await counts();
    const refusals: Array<[string, Promise<unknown>, string]> = [
      ['SyncSupply', syncSupply(SKU, GONE, 1), 'lines[0].key.segment'],
      [
        'AdjustSupply',
        t.clients.supply.adjustSupply({
          requestId: requestId('adjust'),
          lines: [{ key: onhandKey(SKU, GONE), quantityDelta: 1, sourceTime: sourceTime(), reason: '' }],
        }),
        'lines[0].key.segment',
      ],
      ['SyncDemand', syncDemand(SKU, GONE, 1), 'lines[0].key.segment'],
      ['GetSupply', t.clients.supply.getSupply({ item: item(SKU), nodeId: NODE, segment: GONE }), 'segment'],
      ['GetDemand', t.clients.demand.getDemand({ item: item(SKU), nodeId: NODE, segment: GONE }), 'segment'],
      ['Reserve', reserve('gone-1', SKU, GONE, 1), 'lines[0].segment'],
      [
        'GetNodeAvailability',
        t.clients.availability.getNodeAvailability({
          item: item(SKU),
          nodeId: NODE,
          segment: GONE,
          asOfTime: undefined,
        }),
        'segment',
      ],
      [
        'GetAvailabilityByDate',
        t.clients.availability.getAvailabilityByDate({
          item: item(SKU),
          nodeId: NODE,
          distributionGroupId: undefined,
          segment: GONE,
          horizonTime: new Date(Date.now() + 86_400_000),
        }),
        'segment',
      ],
      [
        'ExplainAvailability',
        t.clients.availability.explainAvailability({
          item: item(SKU),
          nodeId: NODE,
          distributionGroupId: undefined,
          segment: GONE,
          asOfTime: undefined,
        }),
        'segment',
      ],
    ];
    for (const [method, call, field] of refusals) {
      const err = await grpcError(call);
      expect([method, ...reasonOf(err)]).toEqual([method, status.FAILED_PRECONDITION, 'SEGMENT_NOT_DEFINED']);
      expect([method, errorDetails(err).errorInfo?.metadata]).toEqual([
        method,
        { field, segment_type: 'CHANNEL', segment: 'GONE', state: 'RETIRED' },
      ]);
      expect(err.details).toContain('retired');
    }
    // A segment never defined names the field too, without a state.
    const undefinedSegment = await grpcError(
      t.clients.reservations.reserve({
        reservationId: 'never-1',
        lines: [
          {
            item: item(SKU),
            nodeId: NODE,
            distributionGroupId: undefined,
            segment: channel('STORE'),
            quantity: 1,
            allowSplit: false,
          },
          {
            item: item(SKU),
            nodeId: NODE,
            distributionGroupId: undefined,
            segment: channel('NEVER'),
            quantity: 1,
            allowSplit: false,
          },
        ],
        expireTime: undefined,
      }),
    );
    expect(errorDetails(undefinedSegment).errorInfo).toMatchObject({
      reason: 'SEGMENT_NOT_DEFINED',
      metadata: { field: 'lines[1].segment', segment_type: 'CHANNEL', segment: 'NEVER' },
    });
    expect(await counts()).toEqual(before);
    expect(await t.database.db.knex('supply').where({ segment: 'GONE' }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('answers a retry with its first answer after the segment was retired, and refuses a new request', async () => {
    await segments.createSegment({ requestId: 'brief-create', segment: segmentOf('CHANNEL', 'BRIEF') });
    const BRIEF = channel('BRIEF');
    const sync = {
      requestId: 'brief-sync',
      lines: [{ key: onhandKey('BRIEF-SKU', BRIEF), quantity: 0, sourceTime: sourceTime() }],
    };
    const first = await t.clients.supply.syncSupply(sync);
    await segments.retireSegment({ requestId: 'brief-retire', segmentType: 'CHANNEL', segment: 'BRIEF' });
    expect(await t.clients.supply.syncSupply(sync)).toEqual(first);
    const refused = await grpcError(t.clients.supply.syncSupply({ ...sync, requestId: 'brief-sync-2' }));
    expect(reasonOf(refused)).toEqual([status.FAILED_PRECONDITION, 'SEGMENT_NOT_DEFINED']);
  });

  it('refuses a segment key with only one of its two fields', async () => {
    const err = await grpcError(syncSupply('HALF', { segmentType: 'CHANNEL', segment: '' }, 1));
    expect([err.code, fieldOf(err)]).toEqual([status.INVALID_ARGUMENT, 'lines[0].key.segment.segment']);
    const other = await grpcError(reserve('half-1', 'HALF', { segmentType: '', segment: 'STORE' }, 1));
    expect([other.code, fieldOf(other)]).toEqual([status.INVALID_ARGUMENT, 'lines[0].segment.segment_type']);
  });
});
