import * as pb from '@inventory/contracts';
import { describeEachDatabase } from '@inventory/store/testing';
import { AllocationApp, caughtUp, startAudit, waitFor, type TestAudit } from './testing/harness';

const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const item: pb.ItemKey = { itemId: 'LOAN', unitOfMeasure: 'EACH', productClass: '' };
const onhand = (segment: pb.SegmentKey): pb.SupplyKey => ({
  item,
  nodeId: 'DC1',
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

describeEachDatabase('segment consumption records', (dialect) => {
  let app: AllocationApp;
  let audit: TestAudit;

  beforeAll(async () => {
    app = await AllocationApp.start(dialect);
    audit = await startAudit(dialect, app.address);
    await app.define(['DC1'], [STORE]);
    await app.clients.rules.setConsumptionRules(
      pb.SetConsumptionRulesRequest.fromPartial({
        requestId: 'rules',
        borrowingEnabled: true,
        segments: [{ segment: STORE, mayBorrow: true }],
      }),
    );
  });
  afterAll(async () => {
    await audit?.stop();
    await app?.stop();
  });

  it("records a segment's loan from the pool taken and repaid, with the change that moved it, and leaves stock figures alone", async () => {
    await app.clients.supply.syncSupply({
      requestId: 'stock',
      lines: [
        { key: onhand(POOL), quantity: 20, sourceTime: new Date(Date.now() - 60_000) },
        { key: onhand(STORE), quantity: 5, sourceTime: new Date(Date.now() - 60_000) },
      ],
    });
    // STORE holds 5 of its own: a reservation of 8 borrows 3 from the pool.
    await app.clients.reservations.reserve(
      pb.ReserveRequest.fromPartial({
        reservationId: 'cart-loan',
        lines: [{ item, nodeId: 'DC1', segment: STORE, quantity: 8 }],
      }),
    );
    await app.clients.reservations.releaseReservation({ requestId: 'release-loan', reservationId: 'cart-loan' });
    await caughtUp(app, audit.clients);
    const loans = await waitFor(async () => {
      const { records } = await audit.clients.audit.listSupplyAudit(
        pb.auditV1.ListSupplyAuditRequest.fromPartial({
          itemId: 'LOAN',
          purposes: [pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_CONSUMPTION],
          includeSystem: true,
        }),
      );
      return records.length >= 2 ? records : undefined;
    });
    expect(loans.map((r) => [r.requestId, r.quantityBefore, r.quantityAfter, r.quantityChange, r.reason])).toEqual([
      ['cart-loan', 0, 3, 3, 'LOAN_TAKEN'],
      ['release-loan', 3, 0, -3, 'LOAN_REPAID'],
    ]);
    expect(loans[0]).toMatchObject({ key: onhand(STORE), auditType: pb.AuditType.AUDIT_TYPE_USER });

    // A loan moves no stock: the history of STORE's on-hand shows its sync alone.
    const history = await audit.clients.audit.getStockHistory(
      pb.auditV1.GetStockHistoryRequest.fromPartial({ item, nodeId: 'DC1', segment: STORE }),
    );
    expect(history.points.map((p) => p.quantityAfter)).toEqual([5]);
  });
});
