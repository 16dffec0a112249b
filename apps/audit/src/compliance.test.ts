import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { grpcError } from '@inventory/grpc-server/testing';
import { describeEachDatabase } from '@inventory/store/testing';
import { AllocationApp, caughtUp, startAudit, type TestAudit } from './testing/harness';

const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const seg = (segment: string): pb.SegmentKey => ({ segmentType: 'CHANNEL', segment });
const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: 'EACH', productClass: '' });
const onhand = (itemId: string, segment = POOL): pb.SupplyKey => ({
  item: item(itemId),
  nodeId: 'DC1',
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

describeEachDatabase('segmentation compliance', (dialect) => {
  let app: AllocationApp;
  let audit: TestAudit;
  const compliance = (req: Partial<pb.auditV1.GetSegmentationComplianceRequest>) =>
    audit.clients.compliance.getSegmentationCompliance(
      pb.auditV1.GetSegmentationComplianceRequest.fromPartial({ segmentType: 'CHANNEL', ...req }),
    );
  const figures = (n: pb.auditV1.ItemNodeCompliance | undefined) =>
    n?.segments.map((s) => [s.segment?.segment, s.actualQuantity, s.plannedQuantity, s.deviation]);

  beforeAll(async () => {
    app = await AllocationApp.start(dialect);
    audit = await startAudit(dialect, app.address);
    await app.define(['DC1'], [seg('WEB'), seg('STORE')]);
    await app.clients.plans.setAllocationPlan({
      requestId: 'plan',
      plan: pb.AllocationPlan.fromPartial({
        segmentType: 'CHANNEL',
        enabled: true,
        rules: [
          {
            ruleId: 'split',
            rank: 1,
            conditions: { itemIds: [], nodeIds: ['DC1'] },
            strategy: {
              fixed: {},
              segments: [
                { segment: seg('WEB'), basisPoints: 6000 },
                { segment: seg('STORE'), basisPoints: 4000 },
              ],
            },
          },
        ],
      }),
    });
  });
  afterAll(async () => {
    await audit?.stop();
    await app?.stop();
  });

  it('shows what each segment holds against the plan, and since when it deviates', async () => {
    await app.clients.supply.syncSupply({
      requestId: 'total',
      lines: [{ key: onhand('DEV'), quantity: 100, sourceTime: new Date(), physicalTotal: true }],
      skipAllocation: true,
    });
    await caughtUp(app, audit.clients);
    const [sync] = (
      await audit.clients.audit.listSupplyAudit(pb.auditV1.ListSupplyAuditRequest.fromPartial({ itemId: 'DEV' }))
    ).records;

    const first = await compliance({});
    expect(first.itemNodes).toHaveLength(1);
    const [dev] = first.itemNodes;
    expect(dev).toMatchObject({ item: item('DEV'), nodeId: 'DC1', ruleId: 'split', planVersion: 1, compliant: false });
    expect(figures(dev)?.sort()).toEqual(
      [
        ['', 100, 0, 100],
        ['STORE', 0, 40, -40],
        ['WEB', 0, 60, -60],
      ].sort(),
    );
    // The deviation began with the sync (the plan is older).
    for (const s of dev!.segments) expect(s.deviatingSince).toEqual(sync!.occurTime);

    // A later change while it still deviates: the figures move, the start stays.
    await app.clients.supply.adjustSupply({
      requestId: 'more',
      lines: [{ key: onhand('DEV'), quantityDelta: 10, sourceTime: new Date(), reason: 'RECEIPT' }],
    });
    await caughtUp(app, audit.clients);
    const [still] = (await compliance({})).itemNodes;
    expect(figures(still)?.find((f) => f[0] === '')).toEqual(['', 110, 0, 110]);
    for (const s of still!.segments) expect(s.deviatingSince).toEqual(sync!.occurTime);

    // Rebalanced, it complies: listed only when asked for, without a start.
    await app.clients.rebalance.rebalance(
      pb.RebalanceRequest.fromPartial({
        requestId: 'rebalance',
        segmentType: 'CHANNEL',
        itemIds: ['DEV'],
        actor: 'ops',
      }),
    );
    expect((await compliance({})).itemNodes).toEqual([]);
    const [ok] = (await compliance({ includeCompliant: true })).itemNodes;
    expect(ok?.compliant).toBe(true);
    expect(ok!.segments.every((s) => s.deviation === 0 && s.deviatingSince === undefined)).toBe(true);

    // A new deviation starts afresh, with the change that made it.
    await app.clients.supply.adjustSupply({
      requestId: 'sold',
      lines: [{ key: onhand('DEV', seg('WEB')), quantityDelta: -6, sourceTime: new Date(), reason: 'SOLD' }],
    });
    await caughtUp(app, audit.clients);
    const sold = (
      await audit.clients.audit.listSupplyAudit(
        pb.auditV1.ListSupplyAuditRequest.fromPartial({ actionId: '', itemId: 'DEV', segment: seg('WEB') }),
      )
    ).records.at(-1);
    const [again] = (await compliance({})).itemNodes;
    const web = again!.segments.find((s) => s.segment?.segment === 'WEB');
    expect(web?.actualQuantity).toBe(60);
    expect(web?.deviation).toBe(60 - web!.plannedQuantity);
    expect(web?.deviation).toBeLessThan(0);
    expect(web?.deviatingSince).toEqual(sold!.occurTime);
  });

  it('refuses a bad request and passes on what the allocation app refuses', async () => {
    const missing = await grpcError(compliance({ segmentType: '' }));
    expect(missing.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(missing).errorInfo?.metadata['field']).toBe('segment_type');
    const unknown = await grpcError(compliance({ segmentType: 'NOPE' }));
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect(errorDetails(unknown).errorInfo?.reason).toBe('SEGMENT_TYPE_NOT_FOUND');
  });
});
