import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { describeEachDatabase } from '@inventory/store/testing';
import { grpcError, rowCounts, startTestService, type TestService } from './testing/harness';
import { atNode, available, createNodes, inGroup, item, onhand } from './testing/stock';

const inOneHour = () => new Date(Date.now() + 3_600_000);

describeEachDatabase('reservations', (dialect) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(dialect);
    await createNodes(t.clients, ['DC1', 'DC2', 'DC3']);
    await t.clients.nodes.createDistributionGroup({
      requestId: 'dg',
      distributionGroup: {
        distributionGroupId: 'EAST',
        description: '',
        nodeIds: ['DC2', 'DC3', 'DC1'],
        createTime: undefined,
      },
    });
  });
  afterAll(async () => t.stop());

  const reserve = (reservationId: string, lines: pb.ReservationLine[], expireTime: Date | undefined = inOneHour()) =>
    t.clients.reservations.reserve({ reservationId, lines, expireTime });

  it('holds stock, counts it in availability, and answers a retry with the first answer', async () => {
    await onhand(t.clients, [{ itemId: 'BASIC', nodeId: 'DC1', quantity: 10 }]);
    const first = await reserve('basic-1', [atNode('BASIC', 'DC1', 3)]);
    expect(first.reservation?.state).toBe(pb.ReservationState.RESERVATION_STATE_ACTIVE);
    expect(first.reservation?.lines[0]?.allocations).toEqual([{ nodeId: 'DC1', quantity: 3 }]);
    expect(await available(t.clients, 'BASIC', 'DC1')).toMatchObject({ available: 7, reservedQuantity: 3 });

    const retry = await reserve('basic-1', [atNode('BASIC', 'DC1', 3)], first.reservation?.expireTime);
    expect(retry).toEqual(first);
    expect(await available(t.clients, 'BASIC', 'DC1')).toMatchObject({ available: 7 });

    const reused = await grpcError(reserve('basic-1', [atNode('BASIC', 'DC1', 4)], first.reservation?.expireTime));
    expect(reused.code).toBe(status.ALREADY_EXISTS);
    expect(errorDetails(reused).errorInfo?.reason).toBe('REQUEST_ID_REUSED');
    expect((await t.clients.reservations.getReservation({ reservationId: 'basic-1' })).reservation).toEqual(
      first.reservation,
    );
  });

  it('refuses a short reservation whole, naming each short line and what was available', async () => {
    await onhand(t.clients, [
      { itemId: 'KIT-A', nodeId: 'DC1', quantity: 5 },
      { itemId: 'KIT-B', nodeId: 'DC1', quantity: 1 },
    ]);
    const before = await rowCounts(t.database);
    // The kit uses KIT-A twice: 3 + 3 is more than 5, though each line alone would fit.
    const err = await grpcError(
      reserve('kit-1', [atNode('KIT-A', 'DC1', 3), atNode('KIT-B', 'DC1', 1), atNode('KIT-A', 'DC1', 3)]),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    const info = errorDetails(err).errorInfo;
    expect(info?.reason).toBe('INSUFFICIENT_AVAILABILITY');
    expect(info?.metadata).toEqual({
      short_lines: '2',
      'line.2.item_id': 'KIT-A',
      'line.2.location': 'DC1',
      'line.2.requested': '3',
      'line.2.own': '2',
      'line.2.borrowable': '0',
      'line.2.available': '2',
    });
    expect(await rowCounts(t.database)).toEqual(before);
    expect(await available(t.clients, 'KIT-A', 'DC1')).toMatchObject({ available: 5, reservedQuantity: 0 });
    await expect(
      reserve('kit-2', [atNode('KIT-A', 'DC1', 3), atNode('KIT-B', 'DC1', 1), atNode('KIT-A', 'DC1', 2)]),
    ).resolves.toBeDefined();
    expect(await available(t.clients, 'KIT-A', 'DC1')).toMatchObject({ available: 0 });
  });

  it('picks group nodes by priority, splitting only where the line allows it', async () => {
    await onhand(t.clients, [
      { itemId: 'DG', nodeId: 'DC2', quantity: 2 },
      { itemId: 'DG', nodeId: 'DC3', quantity: 5 },
      { itemId: 'DG', nodeId: 'DC1', quantity: 10 },
    ]);
    const whole = await reserve('dg-whole', [inGroup('DG', 'EAST', 4)]);
    expect(whole.reservation?.lines[0]?.allocations).toEqual([{ nodeId: 'DC3', quantity: 4 }]);
    const split = await reserve('dg-split', [inGroup('DG', 'EAST', 6, true)]);
    expect(split.reservation?.lines[0]?.allocations).toEqual([
      { nodeId: 'DC2', quantity: 2 },
      { nodeId: 'DC3', quantity: 1 },
      { nodeId: 'DC1', quantity: 3 },
    ]);
    const err = await grpcError(reserve('dg-short', [inGroup('DG', 'EAST', 8)]));
    expect(errorDetails(err).errorInfo?.metadata).toMatchObject({ 'line.0.location': 'EAST', 'line.0.available': '7' });
  });

  it('withholds safety stock and counted demand, but not PLAN demand', async () => {
    await onhand(t.clients, [{ itemId: 'DEM', nodeId: 'DC1', quantity: 10 }]);
    await t.clients.safetyStock.setSafetyStock({
      requestId: 'ss-dem',
      safetyStock: {
        item: item('DEM'),
        nodeId: 'DC1',
        quantity: 2,
        level: pb.SafetyStockLevel.SAFETY_STOCK_LEVEL_UNSPECIFIED,
      },
    });
    const demandKey = (demandType: pb.DemandType): pb.DemandKey => ({
      item: item('DEM'),
      nodeId: 'DC1',
      segment: undefined,
      demandType,
      orderReference: '',
    });
    await t.clients.demand.syncDemand({
      requestId: 'dem-1',
      lines: [
        { key: demandKey(pb.DemandType.DEMAND_TYPE_OPEN_ORDER), quantity: 3, sourceTime: new Date() },
        { key: demandKey(pb.DemandType.DEMAND_TYPE_PLAN), quantity: 100, sourceTime: new Date() },
      ],
    });
    expect(await available(t.clients, 'DEM', 'DC1')).toMatchObject({
      available: 5,
      demandQuantity: 3,
      safetyStockQuantity: 2,
    });
    const err = await grpcError(reserve('dem-6', [atNode('DEM', 'DC1', 6)]));
    expect(errorDetails(err).errorInfo?.metadata).toMatchObject({ 'line.0.available': '5' });
    await expect(reserve('dem-5', [atNode('DEM', 'DC1', 5)])).resolves.toBeDefined();
  });

  it('extends, changes, consumes into demand, and releases', async () => {
    await onhand(t.clients, [{ itemId: 'LIFE', nodeId: 'DC1', quantity: 10 }]);
    await reserve('life', [atNode('LIFE', 'DC1', 4)]);
    const later = new Date(Date.now() + 7_200_000);
    const extended = await t.clients.reservations.extendReservation({
      requestId: 'life-ext',
      reservationId: 'life',
      expireTime: later,
    });
    expect(extended.reservation?.expireTime).toEqual(later);

    const up = await t.clients.reservations.changeReservationQuantities({
      requestId: 'life-up',
      reservationId: 'life',
      lines: [{ lineIndex: 0, quantity: 9 }],
    });
    expect(up.reservation?.lines[0]?.line?.quantity).toBe(9);
    const tooMuch = await grpcError(
      t.clients.reservations.changeReservationQuantities({
        requestId: 'life-up2',
        reservationId: 'life',
        lines: [{ lineIndex: 0, quantity: 11 }],
      }),
    );
    expect(errorDetails(tooMuch).errorInfo?.reason).toBe('INSUFFICIENT_AVAILABILITY');
    await t.clients.reservations.changeReservationQuantities({
      requestId: 'life-down',
      reservationId: 'life',
      lines: [{ lineIndex: 0, quantity: 6 }],
    });
    expect(await available(t.clients, 'LIFE', 'DC1')).toMatchObject({ available: 4, reservedQuantity: 6 });

    const part = await t.clients.reservations.consumeReservation({
      requestId: 'life-c1',
      reservationId: 'life',
      orderReference: 'ORDER-1',
      lines: [{ lineIndex: 0, quantity: 2 }],
      demandType: pb.DemandType.DEMAND_TYPE_UNSPECIFIED,
    });
    expect(part.reservation?.state).toBe(pb.ReservationState.RESERVATION_STATE_ACTIVE);
    expect(part.reservation?.lines[0]).toMatchObject({
      consumedQuantity: 2,
      allocations: [{ nodeId: 'DC1', quantity: 4 }],
    });
    // Consuming moves units from reserved to demand: availability does not change.
    expect(await available(t.clients, 'LIFE', 'DC1')).toMatchObject({
      available: 4,
      reservedQuantity: 4,
      demandQuantity: 2,
    });
    const { demands } = await t.clients.demand.getDemand({ item: item('LIFE'), nodeId: 'DC1', segment: undefined });
    expect(demands.map((d) => [d.key?.demandType, d.key?.orderReference, d.quantity])).toEqual([
      [pb.DemandType.DEMAND_TYPE_ALLOCATED, 'ORDER-1', 2],
    ]);

    const released = await t.clients.reservations.releaseReservation({ requestId: 'life-rel', reservationId: 'life' });
    expect(released.reservation?.state).toBe(pb.ReservationState.RESERVATION_STATE_RELEASED);
    expect(await available(t.clients, 'LIFE', 'DC1')).toMatchObject({
      available: 8,
      reservedQuantity: 0,
      demandQuantity: 2,
    });
    const again = await grpcError(
      t.clients.reservations.releaseReservation({ requestId: 'life-rel-2', reservationId: 'life' }),
    );
    expect([again.code, errorDetails(again).errorInfo?.metadata]).toEqual([
      status.FAILED_PRECONDITION,
      { reservation_id: 'life', state: 'RELEASED' },
    ]);
  });

  it('stops counting a reservation at its expiry, before any sweep, and the sweep records it', async () => {
    await onhand(t.clients, [{ itemId: 'EXP', nodeId: 'DC1', quantity: 5 }]);
    await reserve('exp-1', [atNode('EXP', 'DC1', 5)], new Date(Date.now() + 300));
    await expect(reserve('exp-2', [atNode('EXP', 'DC1', 1)])).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(await available(t.clients, 'EXP', 'DC1')).toMatchObject({ available: 5, reservedQuantity: 0 });
    await expect(reserve('exp-3', [atNode('EXP', 'DC1', 5)])).resolves.toBeDefined();
    const got = await t.clients.reservations.getReservation({ reservationId: 'exp-1' });
    expect(got.reservation?.state).toBe(pb.ReservationState.RESERVATION_STATE_EXPIRED);
    const ext = await grpcError(
      t.clients.reservations.extendReservation({
        requestId: 'exp-ext',
        reservationId: 'exp-1',
        expireTime: inOneHour(),
      }),
    );
    expect(errorDetails(ext).errorInfo?.metadata).toEqual({ reservation_id: 'exp-1', state: 'EXPIRED' });
    expect(await t.service.sweeper.sweepOnce()).toBeGreaterThanOrEqual(1);
    const { reservations } = await t.clients.reservations.listReservations({
      state: pb.ReservationState.RESERVATION_STATE_EXPIRED,
      pageSize: 0,
      pageToken: '',
    });
    expect(reservations.map((r) => r.reservationId)).toContain('exp-1');
  });

  it('increases a reservation with supply that arrived and holds that expired since the position was counted', async () => {
    await onhand(t.clients, [{ itemId: 'LATE', nodeId: 'DC1', quantity: 10 }]);
    await t.clients.supply.syncSupply({
      requestId: 'late-transit',
      lines: [
        {
          key: {
            item: item('LATE'),
            nodeId: 'DC1',
            segment: undefined,
            supplyType: pb.SupplyType.SUPPLY_TYPE_INTRANSIT,
            etaTime: new Date(Date.now() + 300),
          },
          quantity: 5,
          sourceTime: new Date(),
        },
      ],
    });
    await reserve('late-a', [atNode('LATE', 'DC1', 6)]);
    await reserve('late-b', [atNode('LATE', 'DC1', 4)], new Date(Date.now() + 300));
    await new Promise((r) => setTimeout(r, 400));
    // Nothing has recounted the position since: the 5 in transit have arrived and late-b's 4 are free again.
    const up = await t.clients.reservations.changeReservationQuantities({
      requestId: 'late-up',
      reservationId: 'late-a',
      lines: [{ lineIndex: 0, quantity: 15 }],
    });
    expect(up.reservation?.lines[0]?.allocations).toEqual([{ nodeId: 'DC1', quantity: 15 }]);
    expect(await available(t.clients, 'LATE', 'DC1')).toMatchObject({ available: 0, reservedQuantity: 15 });
  });

  it('takes ids and order references of the longest allowed length', async () => {
    await onhand(t.clients, [{ itemId: 'LONG', nodeId: 'DC1', quantity: 3 }]);
    const long = (c: string) => c.repeat(128);
    await reserve(long('r'), [atNode('LONG', 'DC1', 2)]);
    await t.clients.reservations.extendReservation({
      requestId: long('e'),
      reservationId: long('r'),
      expireTime: new Date(Date.now() + 7_200_000),
    });
    const consumed = await t.clients.reservations.consumeReservation({
      requestId: long('c'),
      reservationId: long('r'),
      orderReference: long('o'),
      lines: [],
      demandType: pb.DemandType.DEMAND_TYPE_SCHEDULED,
    });
    expect(consumed.reservation?.state).toBe(pb.ReservationState.RESERVATION_STATE_CONSUMED);
    const { demands } = await t.clients.demand.getDemand({ item: item('LONG'), nodeId: 'DC1', segment: undefined });
    expect(demands.map((d) => [d.key?.demandType, d.key?.orderReference, d.quantity])).toEqual([
      [pb.DemandType.DEMAND_TYPE_SCHEDULED, long('o'), 2],
    ]);
    const tooLong = await grpcError(reserve(long('r') + 'x', [atNode('LONG', 'DC1', 1)]));
    expect(errorDetails(tooLong).errorInfo?.metadata).toEqual({ field: 'reservation_id' });
  });

  it('holds 1000 lines in one reservation, and refuses 1001', async () => {
    const items = Array.from({ length: 1001 }, (_, i) => `WIDE-${i}`);
    await onhand(
      t.clients,
      items.slice(0, 1000).map((itemId) => ({ itemId, nodeId: 'DC2', quantity: 1 })),
    );
    const wide = await reserve(
      'wide',
      items.slice(0, 1000).map((itemId) => atNode(itemId, 'DC2', 1)),
    );
    expect(wide.reservation?.lines).toHaveLength(1000);
    expect((await t.clients.reservations.getReservation({ reservationId: 'wide' })).reservation).toEqual(
      wide.reservation,
    );
    const tooWide = await grpcError(
      reserve(
        'too-wide',
        items.map((itemId) => atNode(itemId, 'DC2', 1)),
      ),
    );
    expect([tooWide.code, errorDetails(tooWide).errorInfo?.reason]).toEqual([
      status.INVALID_ARGUMENT,
      'BATCH_TOO_LARGE',
    ]);
  });

  it('refuses careless input with the offending fields and changes nothing', async () => {
    const before = await rowCounts(t.database);
    const bad = await grpcError(
      t.clients.reservations.reserve({
        reservationId: '',
        lines: [
          { ...atNode('X', 'DC1', 0) },
          { ...atNode('X', 'DC1', 1), nodeId: undefined },
          { ...atNode('X', 'DC1', 1), allowSplit: true },
        ],
        expireTime: new Date(Date.now() - 1000),
      }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(bad).badRequest?.fieldViolations.map((v) => v.field)).toEqual([
      'reservation_id',
      'lines[0].quantity',
      'lines[1].location',
      'lines[2].allow_split',
      'expire_time',
    ]);
    const unknownNode = await grpcError(reserve('nowhere', [atNode('X', 'NOWHERE', 1)]));
    expect([unknownNode.code, errorDetails(unknownNode).errorInfo?.reason]).toEqual([
      status.NOT_FOUND,
      'NODE_NOT_FOUND',
    ]);
    const unknownGroup = await grpcError(reserve('nogroup', [inGroup('X', 'NOGROUP', 1)]));
    expect(errorDetails(unknownGroup).errorInfo?.reason).toBe('DISTRIBUTION_GROUP_NOT_FOUND');
    const missing = await grpcError(t.clients.reservations.getReservation({ reservationId: 'never' }));
    expect([missing.code, errorDetails(missing).errorInfo?.reason]).toEqual([
      status.NOT_FOUND,
      'RESERVATION_NOT_FOUND',
    ]);
    expect(await rowCounts(t.database)).toEqual(before);
  });
});
