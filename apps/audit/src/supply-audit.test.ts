import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { grpcError } from '@inventory/grpc-server/testing';
import { describeEachDatabase } from '@inventory/store/testing';
import { AllocationApp, caughtUp, startAudit, type TestAudit } from './testing/harness';

const { SUPPLY_PURPOSE_SUPPLY_SYNC, SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT, SUPPLY_PURPOSE_SEGMENT_ALLOCATION } =
  pb.SupplyPurpose;
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const seg = (segment: string): pb.SegmentKey => ({ segmentType: 'CHANNEL', segment });
const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: 'EA', productClass: '' });
const onhand = (itemId: string, segment = POOL, nodeId = 'DC1'): pb.SupplyKey => ({
  item: item(itemId),
  nodeId,
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});
const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 12, minute));

describeEachDatabase('supply audit', (dialect) => {
  let app: AllocationApp;
  let audit: TestAudit;
  const list = (req: Partial<pb.auditV1.ListSupplyAuditRequest>) =>
    audit.clients.audit.listSupplyAudit(pb.auditV1.ListSupplyAuditRequest.fromPartial(req));

  beforeAll(async () => {
    app = await AllocationApp.start(dialect);
    audit = await startAudit(dialect, app.address);
    await app.define(['DC1', 'DC2'], [seg('WEB'), seg('STORE')]);
    // WEB 60 %, STORE 40 % at DC1.
    await app.clients.plans.setAllocationPlan({
      requestId: 'plan-channel',
      plan: {
        segmentType: 'CHANNEL',
        version: 0,
        enabled: true,
        requestId: '',
        rules: [
          {
            ruleId: 'split',
            rank: 1,
            conditions: { itemIds: [], nodeIds: ['DC1'], productClass: undefined },
            strategy: {
              fixed: {},
              window: undefined,
              segments: [
                { segment: seg('WEB'), basisPoints: 6000 },
                { segment: seg('STORE'), basisPoints: 4000 },
              ],
            },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await audit?.stop();
    await app?.stop();
  });

  it('records each applied line with its action, purpose, quantities and reason, in stream order', async () => {
    await app.clients.supply.syncSupply({
      requestId: 'plain-sync',
      lines: [{ key: onhand('PLAIN'), quantity: 100, sourceTime: at(0), physicalTotal: false }],
    });
    await app.clients.supply.adjustSupply({
      requestId: 'plain-adjust',
      lines: [{ key: onhand('PLAIN'), quantityDelta: -7, sourceTime: at(1), reason: 'DAMAGED' }],
    });
    const consumed = await caughtUp(app, audit.clients);
    const page = await list({ itemId: 'PLAIN' });
    expect(page.consumedSequence).toBe(consumed);
    expect(page.nextPageToken).toBe('');
    expect(page.records).toHaveLength(2);
    const [sync, adjust] = page.records;
    expect(sync).toMatchObject({
      requestId: 'plain-sync',
      purpose: SUPPLY_PURPOSE_SUPPLY_SYNC,
      auditType: pb.AuditType.AUDIT_TYPE_USER,
      key: onhand('PLAIN'),
      transactionType: pb.TransactionType.TRANSACTION_TYPE_SYNC,
      quantity: 100,
      quantityBefore: 0,
      quantityAfter: 100,
      quantityChange: 100,
      sourceTime: at(0),
      outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED,
      parentActionId: '',
    });
    expect(adjust).toMatchObject({
      requestId: 'plain-adjust',
      purpose: SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT,
      transactionType: pb.TransactionType.TRANSACTION_TYPE_ADJUST,
      quantity: -7,
      quantityBefore: 100,
      quantityAfter: 93,
      quantityChange: -7,
      reason: 'DAMAGED',
    });
    expect(adjust!.sequence).toBeGreaterThan(sync!.sequence);
    expect(sync!.actionId).not.toBe(adjust!.actionId);
    expect(sync!.receiveTime!.getTime()).toBeGreaterThanOrEqual(sync!.occurTime!.getTime());
  });

  it('shows a physical-total sync as the user record, and its allocation as system records naming it as parent only when asked', async () => {
    await app.clients.supply.syncSupply({
      requestId: 'total-1',
      lines: [{ key: onhand('TOTAL'), quantity: 100, sourceTime: at(2), physicalTotal: true }],
    });
    await caughtUp(app, audit.clients);

    const users = await list({ itemId: 'TOTAL' });
    expect(users.records).toHaveLength(1);
    const [sync] = users.records;
    expect(sync).toMatchObject({ requestId: 'total-1', purpose: SUPPLY_PURPOSE_SUPPLY_SYNC, quantityAfter: 100 });

    const all = await list({ itemId: 'TOTAL', includeSystem: true });
    const system = all.records.filter((r) => r.auditType === pb.AuditType.AUDIT_TYPE_SYSTEM);
    expect(all.records[0]).toEqual(sync);
    expect(system.length).toBeGreaterThan(0);
    for (const r of system)
      expect(r).toMatchObject({
        parentActionId: sync!.actionId,
        purpose: SUPPLY_PURPOSE_SEGMENT_ALLOCATION,
        actor: 'supply-sync-allocation',
        allocation: { segmentType: 'CHANNEL', ruleId: 'split', planVersion: 1 },
      });
    // The pool's 100 went to WEB (60) and STORE (40).
    const after = (segment: pb.SegmentKey) =>
      system.filter((r) => r.key?.segment?.segment === segment.segment).map((r) => r.quantityAfter);
    expect(after(seg('WEB'))).toEqual([60]);
    expect(after(seg('STORE'))).toEqual([40]);
    // The pool gives to each segment in turn (a move per segment), ending empty; the moves net to nothing.
    expect(after(POOL).at(-1)).toBe(0);
    expect(system.reduce((sum, r) => sum + r.quantityChange, 0)).toBe(0);
    // A segment filter, a purpose filter.
    expect((await list({ itemId: 'TOTAL', segment: seg('WEB'), includeSystem: true })).records).toHaveLength(1);
    expect((await list({ itemId: 'TOTAL', purposes: [SUPPLY_PURPOSE_SEGMENT_ALLOCATION] })).records).toHaveLength(0);
    expect(
      (await list({ itemId: 'TOTAL', purposes: [SUPPLY_PURPOSE_SEGMENT_ALLOCATION], includeSystem: true })).records,
    ).toEqual(system);

    // The action, with the allocation as its child; the allocation's, with the sync as its parent.
    const action = await audit.clients.audit.getAuditAction({ actionId: sync!.actionId, requestId: '' });
    expect(action.action).toEqual({ actionId: sync!.actionId, records: [sync] });
    expect(action.parent).toBeUndefined();
    expect(action.children).toEqual([{ actionId: system[0]!.actionId, records: system }]);
    const child = await audit.clients.audit.getAuditAction({ actionId: system[0]!.actionId, requestId: '' });
    expect(child.parent).toEqual({ actionId: sync!.actionId, records: [sync] });
    expect(child.children).toEqual([]);
    // By the request: the caller's action, not the allocation's that shares its request id.
    expect(await audit.clients.audit.getAuditAction({ actionId: '', requestId: 'total-1' })).toEqual(action);
    // Asking by action id lists its records whatever their type.
    expect((await list({ actionId: system[0]!.actionId })).records).toEqual(system);
  });

  it('keeps ignored transactions, with why, out of the listing unless asked for', async () => {
    await app.clients.supply.syncSupply({
      requestId: 'late-1',
      lines: [{ key: onhand('LATE', POOL, 'DC2'), quantity: 50, sourceTime: at(10) }],
    });
    await app.clients.supply.syncSupply({
      requestId: 'late-2',
      lines: [{ key: onhand('LATE', POOL, 'DC2'), quantity: 20, sourceTime: at(5) }],
    });
    await caughtUp(app, audit.clients);
    expect((await list({ itemId: 'LATE' })).records.map((r) => r.requestId)).toEqual(['late-1']);
    const withIgnored = await list({ itemId: 'LATE', nodeId: 'DC2', includeIgnored: true });
    expect(withIgnored.records[1]).toMatchObject({
      requestId: 'late-2',
      outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
      quantity: 20,
      quantityBefore: 50,
      quantityAfter: 50,
      quantityChange: 0,
    });
  });

  it('pages through the records with tokens bound to their filters', async () => {
    await app.clients.supply.adjustSupply({
      requestId: 'pages',
      lines: [1, 2, 3, 4, 5].map((n) => ({
        key: onhand(`PAGE-${n}`, POOL, 'DC2'),
        quantityDelta: n,
        sourceTime: at(20),
        reason: '',
      })),
    });
    await caughtUp(app, audit.clients);
    const seen: string[] = [];
    let token = '';
    do {
      const page = await list({
        nodeId: 'DC2',
        purposes: [SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT],
        pageSize: 2,
        pageToken: token,
      });
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...page.records.map((r) => r.key!.item!.itemId));
      token = page.nextPageToken;
    } while (token !== '');
    expect(seen).toEqual(['PAGE-1', 'PAGE-2', 'PAGE-3', 'PAGE-4', 'PAGE-5']);

    const first = await list({ nodeId: 'DC2', pageSize: 1 });
    const reused = await grpcError(list({ nodeId: 'DC1', pageSize: 1, pageToken: first.nextPageToken }));
    expect(reused.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(reused).errorInfo?.metadata['field']).toBe('page_token');
  });

  it('follows the summed quantity of an item at a node over time, a page at a time', async () => {
    const lines = (quantity: number, segment: pb.SegmentKey, minute: number) => ({
      requestId: `history-${minute}`,
      lines: [{ key: onhand('HISTORY', segment, 'DC2'), quantity, sourceTime: at(minute) }],
    });
    await app.clients.supply.syncSupply(lines(10, POOL, 30));
    await app.clients.supply.syncSupply(lines(5, seg('WEB'), 31));
    await app.clients.supply.syncSupply(lines(5, seg('WEB'), 32)); // no change: no point
    await app.clients.supply.syncSupply(lines(4, POOL, 33));
    await caughtUp(app, audit.clients);
    const history = (req: Partial<pb.auditV1.GetStockHistoryRequest>) =>
      audit.clients.audit.getStockHistory(
        pb.auditV1.GetStockHistoryRequest.fromPartial({ item: item('HISTORY'), nodeId: 'DC2', ...req }),
      );
    const all = await history({});
    expect(all.points.map((p) => [p.quantityBefore, p.quantityAfter])).toEqual([
      [0, 10],
      [10, 15],
      [15, 9],
    ]);
    const first = await history({ pageSize: 2 });
    const second = await history({ pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.points, ...second.points]).toEqual(all.points);
    expect(second.nextPageToken).toBe('');
    expect((await history({ segment: seg('WEB') })).points.map((p) => p.quantityAfter)).toEqual([5]);
    // From a start time: the first point starts where the quantity stood.
    const late = await history({ startTime: all.points[2]!.occurTime });
    expect(late.points.map((p) => [p.quantityBefore, p.quantityAfter])).toEqual([[15, 9]]);
  });

  it('refuses bad queries with the field named', async () => {
    const bad = async (call: Promise<unknown>, field: string) => {
      const err = await grpcError(call);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(errorDetails(err).errorInfo?.metadata['field']).toBe(field);
    };
    await bad(list({ nodeId: 'bad node' }), 'node_id');
    await bad(list({ segment: { segmentType: 'CHANNEL', segment: '' } }), 'segment.segment');
    await bad(list({ startTime: at(5), endTime: at(5) }), 'end_time');
    await bad(list({ pageSize: 1001 }), 'page_size');
    await bad(list({ purposes: Array(11).fill(SUPPLY_PURPOSE_SUPPLY_SYNC) }), 'purposes');
    await bad(list({ purposes: [pb.SupplyPurpose.SUPPLY_PURPOSE_UNSPECIFIED] }), 'purposes[0]');
    await bad(audit.clients.audit.getAuditAction({ actionId: '', requestId: '' }), 'action_id');
    await bad(audit.clients.audit.getAuditAction({ actionId: 'a', requestId: 'r' }), 'action_id');
    await bad(
      audit.clients.audit.getStockHistory(pb.auditV1.GetStockHistoryRequest.fromPartial({ nodeId: 'DC1' })),
      'item',
    );
    const missing = await grpcError(audit.clients.audit.getAuditAction({ actionId: 'no-such-action', requestId: '' }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(errorDetails(missing).errorInfo).toMatchObject({
      reason: 'AUDIT_ACTION_NOT_FOUND',
      domain: 'audit.v1',
      metadata: { action_id: 'no-such-action' },
    });
    const unknownRequest = await grpcError(audit.clients.audit.getAuditAction({ actionId: '', requestId: 'nobody' }));
    expect(errorDetails(unknownRequest).errorInfo?.metadata).toEqual({ request_id: 'nobody' });
  });
});
