import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { grpcError, promisify, rowCounts, startTestService, type TestService } from './testing/harness';
import { metadataLimit } from './testing/metadata-limit';
import { callRaw, replaceOnce, varint } from './testing/raw-request';
import { atNode, available } from './testing/stock';

const ONHAND = pb.SupplyType.SUPPLY_TYPE_ONHAND;
const NANOS_TAG = Buffer.from([0x10]); // Timestamp.nanos: field 2, varint
const inOneHour = () => new Date(Date.now() + 3_600_000);
/** A time whose encoding carries nanos 300,000,000: a marker as long as nanos 2,000,000,000. */
const markedTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000 + 300);
const withNanos = (bytes: Uint8Array, nanos: number) =>
  replaceOnce(bytes, Buffer.concat([NANOS_TAG, varint(300_000_000)]), Buffer.concat([NANOS_TAG, varint(nanos)]));
/** Bytes that are not UTF-8, as long as the marker they replace. */
const notUtf8 = (marker: string, first: number) => Buffer.from([first, ...Buffer.from(marker).subarray(1)]);

const key = (itemId: string): pb.SupplyKey => ({
  item: { itemId, unitOfMeasure: '', productClass: '' },
  nodeId: 'DC1',
  segment: undefined,
  supplyType: ONHAND,
  etaTime: undefined,
});

// Input checks happen before the database is touched, so one database is enough here.
describe('bad input, as an independent client sends it', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('sqlite');
    await t.clients.nodes.createNode({
      requestId: 'node-DC1',
      node: { nodeId: 'DC1', nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
    });
  });
  afterAll(async () => t.stop());

  it('reports 100 bad lines to a client with an 8 KiB metadata limit as INVALID_ARGUMENT with its reason', async () => {
    const raw = new pb.SupplyServiceClient(t.address, credentials.createInsecure(), {
      interceptors: [metadataLimit()],
    });
    const supply = promisify(raw);
    const before = await rowCounts(t.database);
    const lines = Array.from({ length: 100 }, (_, i) => ({
      key: key(`ITEM-${i}`),
      quantity: -1,
      sourceTime: new Date('2026-11-29T12:00:00Z'),
    }));
    const err = await grpcError(supply.syncSupply({ requestId: 'many-bad', lines }));
    raw.close();

    expect(err.code).toBe(status.INVALID_ARGUMENT);
    const { errorInfo, badRequest } = errorDetails(err);
    expect(errorInfo?.reason).toBe('INVALID_ARGUMENT');
    const violations = badRequest?.fieldViolations ?? [];
    expect(violations[0]).toEqual({ field: 'lines[0].quantity', description: 'must not be negative' });
    expect(violations.length).toBeLessThan(50);
    expect(violations[violations.length - 1]?.description).toBe(
      `and ${100 - (violations.length - 1)} more violations not listed`,
    );
    expect(err.details.length).toBeLessThanOrEqual(512);
    expect(await rowCounts(t.database)).toEqual(before);
  });

  const invalidField = (err: ServiceError) => [
    status[err.code],
    errorDetails(err).badRequest?.fieldViolations[0]?.field,
  ];

  describe('Timestamp nanos outside 0..999,999,999', () => {
    it('are refused in a sync, naming the field, and nothing is written', async () => {
      const before = await rowCounts(t.database);
      const request = pb.SyncSupplyRequest.encode({
        requestId: 'nanos-1',
        lines: [{ key: key('NANOS'), quantity: 5, sourceTime: markedTime(Date.now() - 60_000) }],
      }).finish();
      const err = await grpcError(
        callRaw(t.address, pb.SupplyServiceService.syncSupply.path, withNanos(request, 2_000_000_000)),
      );
      expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'lines[0].source_time.nanos']);
      expect(errorDetails(err).badRequest?.fieldViolations[0]?.description).toBe(
        'must be from 0 to 999999999, got 2000000000',
      );
      expect(await rowCounts(t.database)).toEqual(before);
      // The same request with its nanos in range is applied.
      await callRaw(t.address, pb.SupplyServiceService.syncSupply.path, request);
      expect((await available(t.clients, 'NANOS', 'DC1'))?.onhandQuantity).toBe(5);
    });

    it('are refused in a reservation expiry and an availability time', async () => {
      const reserve = pb.ReserveRequest.encode({
        reservationId: 'nanos-r',
        lines: [atNode('NANOS', 'DC1', 1)],
        expireTime: markedTime(Date.now() + 3_600_000),
      }).finish();
      const err = await grpcError(
        callRaw(t.address, pb.ReservationServiceService.reserve.path, withNanos(reserve, 2_000_000_000)),
      );
      expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'expire_time.nanos']);

      const query = pb.GetNodeAvailabilityRequest.encode({
        item: key('NANOS').item,
        nodeId: 'DC1',
        segment: undefined,
        asOfTime: markedTime(Date.now()),
      }).finish();
      const queryErr = await grpcError(
        callRaw(t.address, pb.AvailabilityServiceService.getNodeAvailability.path, withNanos(query, 1_500_000_000)),
      );
      expect(invalidField(queryErr)).toEqual(['INVALID_ARGUMENT', 'as_of_time.nanos']);
    });
  });

  describe('ids that are not valid UTF-8', () => {
    it('are refused, so two different byte strings cannot decode to one id', async () => {
      const encode = (reservationId: string) =>
        pb.ReserveRequest.encode({ reservationId, lines: [atNode('UTF', 'DC1', 1)], expireTime: inOneHour() }).finish();
      for (const first of [0xff, 0xfe]) {
        const bytes = replaceOnce(encode('RES-MARK'), Buffer.from('RES-MARK'), notUtf8('RES-MARK', first));
        const err = await grpcError(callRaw(t.address, pb.ReservationServiceService.reserve.path, bytes));
        expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'reservation_id']);
        expect(errorDetails(err).badRequest?.fieldViolations[0]?.description).toBe('must be valid UTF-8');
      }
      const lookup = pb.GetReservationRequest.encode({ reservationId: 'RES-MARK' }).finish();
      const bad = replaceOnce(lookup, Buffer.from('RES-MARK'), notUtf8('RES-MARK', 0xff));
      expect(
        invalidField(await grpcError(callRaw(t.address, pb.ReservationServiceService.getReservation.path, bad))),
      ).toEqual(['INVALID_ARGUMENT', 'reservation_id']);
    });

    it('are refused deep in a request, with the path to the field', async () => {
      const before = await rowCounts(t.database);
      const request = pb.SyncSupplyRequest.encode({
        requestId: 'utf-1',
        lines: [
          { key: key('FINE'), quantity: 1, sourceTime: new Date(Date.now() - 60_000) },
          { key: key('ITEM-MARK'), quantity: 1, sourceTime: new Date(Date.now() - 60_000) },
        ],
      }).finish();
      const bytes = replaceOnce(request, Buffer.from('ITEM-MARK'), notUtf8('ITEM-MARK', 0xc3));
      const err = await grpcError(callRaw(t.address, pb.SupplyServiceService.syncSupply.path, bytes));
      expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'lines[1].key.item.item_id']);
      expect(await rowCounts(t.database)).toEqual(before);
    });
  });

  it('refuses an unknown reservation state in the list filter, naming the field', async () => {
    const err = await grpcError(
      t.clients.reservations.listReservations({ state: 99 as pb.ReservationState, pageSize: 0, pageToken: '' }),
    );
    expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'state']);
    expect(err.details).toContain('RESERVATION_STATE_ACTIVE');
    await t.clients.reservations.listReservations({
      state: pb.ReservationState.RESERVATION_STATE_ACTIVE,
      pageSize: 0,
      pageToken: '',
    });
  });

  describe('source times further ahead than the allowed clock skew (5 minutes by default)', () => {
    const demandKey = (itemId: string): pb.DemandKey => ({
      item: { itemId, unitOfMeasure: '', productClass: '' },
      nodeId: 'DC1',
      segment: undefined,
      demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
      orderReference: 'ORDER-1',
    });
    const year9999 = new Date('9999-06-01T00:00:00Z');
    const tomorrow = () => new Date(Date.now() + 86_400_000);
    const calls: Array<[string, (sourceTime: Date) => Promise<unknown>]> = [
      [
        'SyncSupply',
        (sourceTime) =>
          t.clients.supply.syncSupply({
            requestId: `skew-ss-${+sourceTime}`,
            lines: [{ key: key('SKEW'), quantity: 5, sourceTime }],
          }),
      ],
      [
        'AdjustSupply',
        (sourceTime) =>
          t.clients.supply.adjustSupply({
            requestId: `skew-as-${+sourceTime}`,
            lines: [{ key: key('SKEW'), quantityDelta: 5, sourceTime, reason: '' }],
          }),
      ],
      [
        'SyncDemand',
        (sourceTime) =>
          t.clients.demand.syncDemand({
            requestId: `skew-sd-${+sourceTime}`,
            lines: [{ key: demandKey('SKEW'), quantity: 5, sourceTime }],
          }),
      ],
      [
        'AdjustDemand',
        (sourceTime) =>
          t.clients.demand.adjustDemand({
            requestId: `skew-ad-${+sourceTime}`,
            lines: [{ key: demandKey('SKEW'), quantityDelta: 5, sourceTime, reason: '' }],
          }),
      ],
    ];

    it.each(calls)('are refused by %s, naming the field, and nothing is written', async (_method, call) => {
      const before = await rowCounts(t.database);
      for (const sourceTime of [year9999, tomorrow()]) {
        const err = await grpcError(call(sourceTime));
        expect(invalidField(err)).toEqual(['INVALID_ARGUMENT', 'lines[0].source_time']);
        expect(errorDetails(err).badRequest?.fieldViolations[0]?.description).toMatch(
          /^must not be more than 300 seconds ahead of the server's clock/,
        );
      }
      expect(await rowCounts(t.database)).toEqual(before);
    });

    it('are accepted within the skew, and a refused time from the future leaves later syncs applying', async () => {
      await t.clients.supply.syncSupply({
        requestId: 'skew-ok-1',
        lines: [{ key: key('SKEW-OK'), quantity: 5, sourceTime: new Date(Date.now() + 60_000) }],
      });
      const refused = await grpcError(
        t.clients.supply.syncSupply({
          requestId: 'skew-ok-2',
          lines: [{ key: key('SKEW-OK'), quantity: 9, sourceTime: year9999 }],
        }),
      );
      expect(refused.code).toBe(status.INVALID_ARGUMENT);
      await t.clients.supply.syncSupply({
        requestId: 'skew-ok-3',
        lines: [{ key: key('SKEW-OK'), quantity: 6, sourceTime: new Date(Date.now() + 120_000) }],
      });
      expect((await available(t.clients, 'SKEW-OK', 'DC1'))?.onhandQuantity).toBe(6);
    });
  });
});
