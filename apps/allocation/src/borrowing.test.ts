import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase, positionsDisagreeingWithRows } from '@inventory/store/testing';
import { grpcError, promisify, startTestService, type Promisified, type TestService } from './testing/harness';
import { createNodes, defineSegments, item } from './testing/stock';

/** DESIGN's node and segments: WEB/STORE and WEB/ONLINE may borrow from the pool, WEB/MARKETPLACE may not. */
const NODE = 'STORE_1';
const web = (segment: string): pb.SegmentKey => ({ segmentType: 'WEB', segment });
const STORE = web('STORE');
const ONLINE = web('ONLINE');
const MARKETPLACE = web('MARKETPLACE');
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const SEGMENTS = { STORE, ONLINE, MARKETPLACE, POOL } as const;
type Name = keyof typeof SEGMENTS;

type Limits = Partial<Pick<pb.SegmentConsumptionRule, 'capQuantity' | 'capRatio' | 'keepInPool' | 'mayBorrow'>>;
const rule = (segment: pb.SegmentKey, limits: Limits = {}): pb.SegmentConsumptionRule => ({
  segment,
  mayBorrow: true,
  capQuantity: undefined,
  capRatio: undefined,
  keepInPool: undefined,
  ...limits,
});

describeEachDatabase('borrowing from the unsegmented pool', (dialect) => {
  let t: TestService;
  let rulesClient: pb.ConsumptionRuleServiceClient;
  let rules: Promisified<pb.ConsumptionRuleServiceClient>;
  beforeAll(async () => {
    t = await startTestService(dialect);
    rulesClient = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    rules = promisify(rulesClient);
    await createNodes(t.clients, [NODE]);
    await defineSegments(t.address, [STORE, ONLINE, MARKETPLACE]);
  });
  afterAll(async () => {
    rulesClient.close();
    await t.stop();
  });

  let requests = 0;
  const requestId = (prefix: string) => `${prefix}-${++requests}`;
  let tick = 0;
  const sourceTime = () => new Date(Date.now() - 600_000 + ++tick * 10);

  /** The rules of DESIGN's example, with limits (or other rules) for STORE. */
  const setRules = (store: Limits = {}, borrowingEnabled = true) =>
    rules.setConsumptionRules({
      requestId: requestId('rules'),
      borrowingEnabled,
      segments: [rule(STORE, store), rule(ONLINE), rule(MARKETPLACE, { mayBorrow: false })],
    });
  const supply = (itemId: string, quantities: Partial<Record<Name, number>>) =>
    t.clients.supply.syncSupply({
      requestId: requestId('supply'),
      lines: Object.entries(quantities).map(([name, quantity]) => ({
        key: {
          item: item(itemId),
          nodeId: NODE,
          segment: SEGMENTS[name as Name],
          supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
          etaTime: undefined,
        },
        quantity,
        sourceTime: sourceTime(),
      })),
    });
  const demand = (itemId: string, name: Name, quantity: number) =>
    t.clients.demand.syncDemand({
      requestId: requestId('demand'),
      lines: [
        {
          key: {
            item: item(itemId),
            nodeId: NODE,
            segment: SEGMENTS[name],
            demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
            orderReference: 'ORDER-1',
          },
          quantity,
          sourceTime: sourceTime(),
        },
      ],
    });
  /** DESIGN's example stock for an item: 10 in each segment, 20 unsegmented. */
  const designStock = (itemId: string) => supply(itemId, { STORE: 10, ONLINE: 10, MARKETPLACE: 10, POOL: 20 });
  const reserve = (itemId: string, name: Name, quantity: number) =>
    t.clients.reservations.reserve({
      reservationId: requestId(`res-${itemId}`),
      lines: [
        {
          item: item(itemId),
          nodeId: NODE,
          distributionGroupId: undefined,
          segment: SEGMENTS[name],
          quantity,
          allowSplit: false,
        },
      ],
      expireTime: new Date(Date.now() + 3_600_000),
    });
  const figures = async (itemId: string, name: Name) => {
    const a = (
      await t.clients.availability.getNodeAvailability({
        item: item(itemId),
        nodeId: NODE,
        segment: SEGMENTS[name],
        asOfTime: undefined,
      })
    ).availability!;
    return {
      available: a.available,
      own: a.ownAvailable,
      borrowable: a.borrowable,
      borrowed: a.borrowed,
      lent: a.lent,
      shortage: a.shortage,
    };
  };
  const availableOfAll = async (itemId: string) =>
    Object.fromEntries(
      await Promise.all(
        (Object.keys(SEGMENTS) as Name[]).map(async (n) => [n, (await figures(itemId, n)).available] as const),
      ),
    );
  const lastSequence = async () => Number((await t.database.db.knex('outbox').max({ n: 'sequence' }).first())?.n ?? 0);
  /** The position events written since `afterSequence` for an item. */
  const positionEventsSince = async (afterSequence: number, itemId: string) =>
    (await readOutbox({ db: t.database.db.knex, afterSequence, limit: 1000 }))
      .flatMap((e) => (e.positionAvailabilityChanged ? [e.positionAvailabilityChanged] : []))
      .filter((p) => p.item?.itemId === itemId);
  const refusal = async (action: Promise<unknown>) => {
    const err: ServiceError = await grpcError(action);
    const info = errorDetails(err).errorInfo;
    return { code: err.code, reason: info?.reason, metadata: info?.metadata };
  };

  it("holds DESIGN's worked example: STORE 30, ONLINE 30, MARKETPLACE 10, unsegmented 20", async () => {
    await setRules();
    await designStock('DESIGN');
    expect(await availableOfAll('DESIGN')).toEqual({ STORE: 30, ONLINE: 30, MARKETPLACE: 10, POOL: 20 });
    expect(await figures('DESIGN', 'STORE')).toEqual({
      available: 30,
      own: 10,
      borrowable: 20,
      borrowed: 0,
      lent: 0,
      shortage: 0,
    });
  });

  it("lets a reservation borrow, and moves the pool's and the other borrower's figures, not MARKETPLACE's", async () => {
    await setRules();
    await designStock('BORROW');
    const before = await lastSequence();
    await reserve('BORROW', 'STORE', 15);
    expect(await figures('BORROW', 'STORE')).toMatchObject({ available: 15, own: 0, borrowable: 15, borrowed: 5 });
    expect(await figures('BORROW', 'ONLINE')).toMatchObject({ available: 25, own: 10, borrowable: 15, borrowed: 0 });
    expect(await figures('BORROW', 'MARKETPLACE')).toMatchObject({ available: 10, borrowable: 0 });
    expect(await figures('BORROW', 'POOL')).toMatchObject({ available: 15, lent: 5 });

    // The reservation's transaction announced every position whose figure moved, with its new figure.
    const events = await positionEventsSince(before, 'BORROW');
    expect(
      Object.fromEntries(events.map((p) => [p.segment?.segment || 'POOL', [p.available, p.borrowed, p.lent]])),
    ).toEqual({ STORE: [15, 5, 0], ONLINE: [25, 0, 0], POOL: [15, 0, 5] });

    const refused = await refusal(reserve('BORROW', 'ONLINE', 26));
    expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'INSUFFICIENT_AVAILABILITY' });
    expect(refused.metadata).toMatchObject({
      'line.0.requested': '26',
      'line.0.available': '25',
      'line.0.own': '10',
      'line.0.borrowable': '15',
    });
    await reserve('BORROW', 'ONLINE', 25);
    expect(await availableOfAll('BORROW')).toEqual({ STORE: 0, ONLINE: 0, MARKETPLACE: 10, POOL: 0 });
    expect(await figures('BORROW', 'POOL')).toMatchObject({ lent: 20 });
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });

  it('borrows on an increase, keeps the loan when the reservation is consumed, and repays it on release', async () => {
    await setRules({ capQuantity: 8 });
    await designStock('CHANGE');
    const made = await reserve('CHANGE', 'STORE', 10);
    const reservationId = made.reservation!.reservationId;
    const change = (quantity: number) =>
      t.clients.reservations.changeReservationQuantities({
        requestId: requestId('change'),
        reservationId,
        lines: [{ lineIndex: 0, quantity }],
      });
    await change(15);
    expect(await figures('CHANGE', 'STORE')).toMatchObject({ available: 3, own: 0, borrowed: 5, borrowable: 3 });
    expect(await figures('CHANGE', 'POOL')).toMatchObject({ available: 15, lent: 5 });
    const refused = await refusal(change(19));
    expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'INSUFFICIENT_AVAILABILITY' });
    await change(18);
    expect(await figures('CHANGE', 'POOL')).toMatchObject({ available: 12, lent: 8 });
    await change(12);
    expect(await figures('CHANGE', 'POOL')).toMatchObject({ available: 18, lent: 2 });

    // Consumed, the held units become the segment's demand: it still owes the pool the same.
    await t.clients.reservations.consumeReservation({
      requestId: requestId('consume'),
      reservationId,
      orderReference: 'ORDER-CHANGE',
      lines: [{ lineIndex: 0, quantity: 4 }],
      demandType: pb.DemandType.DEMAND_TYPE_UNSPECIFIED,
    });
    expect(await figures('CHANGE', 'STORE')).toMatchObject({ borrowed: 2 });
    expect(await figures('CHANGE', 'POOL')).toMatchObject({ available: 18, lent: 2 });
    // Released, the rest of the holds go: 4 units of demand against 10 of its own owe nothing.
    await t.clients.reservations.releaseReservation({ requestId: requestId('release'), reservationId });
    expect(await figures('CHANGE', 'STORE')).toMatchObject({ own: 6, borrowed: 0, available: 14 });
    expect(await figures('CHANGE', 'POOL')).toMatchObject({ available: 20, lent: 0 });
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });

  it('limits a segment by an absolute cap', async () => {
    await setRules({ capQuantity: 3 });
    await designStock('CAP');
    expect(await figures('CAP', 'STORE')).toMatchObject({ available: 13, borrowable: 3 });
    expect((await refusal(reserve('CAP', 'STORE', 14))).metadata).toMatchObject({
      'line.0.own': '10',
      'line.0.borrowable': '3',
    });
    await reserve('CAP', 'STORE', 13);
    expect(await figures('CAP', 'STORE')).toMatchObject({ available: 0, borrowed: 3, borrowable: 0 });
    expect(await figures('CAP', 'POOL')).toMatchObject({ available: 17, lent: 3 });
    // ONLINE has no cap: it may still borrow what the pool has free.
    expect(await figures('CAP', 'ONLINE')).toMatchObject({ available: 27, borrowable: 17 });
  });

  it("limits a segment by a ratio of the pool's counted supply, which grows with the pool", async () => {
    await setRules({ capRatio: 0.25 });
    await designStock('RATIO');
    expect(await figures('RATIO', 'STORE')).toMatchObject({ available: 15, borrowable: 5 });
    await supply('RATIO', { POOL: 40 });
    expect(await figures('RATIO', 'STORE')).toMatchObject({ available: 20, borrowable: 10 });
    await reserve('RATIO', 'STORE', 20);
    await expect(reserve('RATIO', 'STORE', 1)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('keeps the protection floor in the pool for the others', async () => {
    await setRules({ keepInPool: 15 });
    await designStock('FLOOR');
    expect(await figures('FLOOR', 'STORE')).toMatchObject({ available: 15, borrowable: 5 });
    await reserve('FLOOR', 'STORE', 15);
    expect(await figures('FLOOR', 'POOL')).toMatchObject({ available: 15, lent: 5 });
    // The floor binds STORE only: ONLINE may take the pool to zero.
    expect(await figures('FLOOR', 'ONLINE')).toMatchObject({ available: 25, borrowable: 15 });
    await reserve('FLOOR', 'ONLINE', 25);
    expect(await figures('FLOOR', 'POOL')).toMatchObject({ available: 0, lent: 20 });
  });

  it('stops new loans when borrowing is switched off, and counts the old ones until own supply covers them', async () => {
    await setRules();
    await designStock('OFF');
    await reserve('OFF', 'STORE', 15);
    await setRules({ mayBorrow: false });
    expect(await figures('OFF', 'STORE')).toMatchObject({ available: 0, borrowed: 5, borrowable: 0, shortage: 0 });
    expect(await figures('OFF', 'POOL')).toMatchObject({ available: 15, lent: 5 });
    await expect(reserve('OFF', 'STORE', 1)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    // Own supply arrives: the loan shrinks by what it covers.
    await supply('OFF', { STORE: 13 });
    expect(await figures('OFF', 'STORE')).toMatchObject({ available: 0, borrowed: 2 });
    expect(await figures('OFF', 'POOL')).toMatchObject({ available: 18, lent: 2 });
    // The master switch off stops every segment's new loans; loans still count.
    await setRules({}, false);
    expect(await availableOfAll('OFF')).toEqual({ STORE: 0, ONLINE: 10, MARKETPLACE: 10, POOL: 18 });
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  });

  it("shrinks a segment's loan when its own supply arrives", async () => {
    await setRules();
    await designStock('ARRIVE');
    await reserve('ARRIVE', 'STORE', 15);
    await supply('ARRIVE', { STORE: 14 });
    expect(await figures('ARRIVE', 'STORE')).toMatchObject({ own: 0, borrowed: 1, available: 19 });
    expect(await figures('ARRIVE', 'POOL')).toMatchObject({ available: 19, lent: 1 });
    await supply('ARRIVE', { STORE: 20 });
    expect(await figures('ARRIVE', 'STORE')).toMatchObject({ own: 5, borrowed: 0, available: 25 });
    expect(await figures('ARRIVE', 'POOL')).toMatchObject({ available: 20, lent: 0 });
  });

  it('applies a supply decrease below commitments, borrowing what it can and reporting the rest as shortage', async () => {
    await setRules();
    await designStock('DROP');
    await demand('DROP', 'STORE', 12);
    expect(await figures('DROP', 'STORE')).toMatchObject({ available: 18, borrowed: 2 });
    await supply('DROP', { STORE: 0 });
    expect(await figures('DROP', 'STORE')).toMatchObject({ available: 8, borrowed: 12, shortage: 0 });
    expect(await figures('DROP', 'POOL')).toMatchObject({ available: 8, lent: 12 });
    await demand('DROP', 'STORE', 30);
    expect(await figures('DROP', 'STORE')).toMatchObject({ available: 0, borrowed: 30, shortage: 10 });
    expect(await figures('DROP', 'POOL')).toMatchObject({ available: 0, shortage: 10, lent: 30 });
    expect(await figures('DROP', 'ONLINE')).toMatchObject({ available: 10, borrowable: 0 });
    // A segment that may not borrow takes no loan: its shortfall is its own shortage.
    await demand('DROP', 'MARKETPLACE', 14);
    expect(await figures('DROP', 'MARKETPLACE')).toMatchObject({ available: 0, borrowed: 0, shortage: 4 });
    expect(await figures('DROP', 'POOL')).toMatchObject({ lent: 30 });
  });

  it('keeps a segment that does not borrow apart: its changes move no other figure', async () => {
    await setRules();
    await designStock('APART');
    const before = await availableOfAll('APART');
    const last = await lastSequence();
    await supply('APART', { MARKETPLACE: 4 });
    await reserve('APART', 'MARKETPLACE', 3);
    await demand('APART', 'MARKETPLACE', 1);
    expect(await availableOfAll('APART')).toEqual({ ...before, MARKETPLACE: 0 });
    const announced = (await positionEventsSince(last, 'APART')).map((p) => p.segment?.segment);
    expect(new Set(announced)).toEqual(new Set(['MARKETPLACE']));
  });
});
