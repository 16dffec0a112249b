import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { ledgerOfRequest, outboxOfAction, SUPPLY } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { grpcError, rowCounts, startTestService, type TestService } from './testing/harness';

const ONHAND = pb.SupplyType.SUPPLY_TYPE_ONHAND;
const at = (hhmm: string) => new Date(`2026-11-29T${hhmm}:00Z`);
const key = (itemId: string, nodeId = 'DC1', extra: Partial<pb.SupplyKey> = {}): pb.SupplyKey => ({
  item: { itemId, unitOfMeasure: '', productClass: '' },
  nodeId,
  segment: undefined,
  supplyType: ONHAND,
  etaTime: undefined,
  ...extra,
});

describeEachDatabase('supply', (dialect) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(dialect);
    for (const nodeId of ['DC1', 'DC2']) {
      await t.clients.nodes.createNode({
        requestId: `node-${nodeId}`,
        node: { nodeId, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
      });
    }
  });
  afterAll(async () => t.stop());

  const sync = (requestId: string, lines: pb.SupplySyncLine[]) => t.clients.supply.syncSupply({ requestId, lines });
  const adjust = (requestId: string, lines: pb.SupplyAdjustLine[]) =>
    t.clients.supply.adjustSupply({ requestId, lines });
  const onhand = async (itemId: string, nodeId = 'DC1') => {
    const { supplies } = await t.clients.supply.getSupply({
      item: { itemId, unitOfMeasure: '', productClass: '' },
      nodeId,
      segment: undefined,
    });
    return supplies.find((s) => s.key?.supplyType === ONHAND)?.quantity;
  };

  it('yields 99 for the worked example and records the ignored adjust', async () => {
    await sync('we-0', [{ key: key('WE'), quantity: 102, sourceTime: at('12:00') }]);
    await adjust('we-1', [{ key: key('WE'), quantityDelta: -1, sourceTime: at('12:04'), reason: 'SOLD' }]);
    await sync('we-2', [{ key: key('WE'), quantity: 100, sourceTime: at('12:03') }]);
    const late = await adjust('we-3', [{ key: key('WE'), quantityDelta: -2, sourceTime: at('12:02'), reason: 'SOLD' }]);

    expect(await onhand('WE')).toBe(99);
    expect(late.results[0]).toMatchObject({
      outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
      quantityBefore: 99,
      quantityAfter: 99,
    });
    const ledger = await ledgerOfRequest(SUPPLY, { db: t.database.db.knex, requestId: 'we-3' });
    expect(ledger).toMatchObject([
      { transactionType: 'ADJUST', quantity: -2, outcome: 'IGNORED_SUPERSEDED', quantityBefore: 99, quantityAfter: 99 },
    ]);
    const events = await outboxOfAction({ db: t.database.db.knex, actionId: ledger[0].actionId });
    expect(events).toMatchObject([
      {
        type: 'supply_ignored',
        requestId: 'we-3',
        auditType: pb.AuditType.AUDIT_TYPE_USER,
        supplyIgnored: {
          key: { item: { itemId: 'WE', unitOfMeasure: 'EACH' }, nodeId: 'DC1', supplyType: ONHAND },
          transactionType: pb.TransactionType.TRANSACTION_TYPE_ADJUST,
          quantity: -2,
          sourceTime: at('12:02'),
          reason: 'SOLD',
          outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
          quantityBefore: 99,
          quantityAfter: 99,
        },
      },
    ]);
  });

  it('returns the first answer to a retried request and changes nothing', async () => {
    const first = await adjust('retry-1', [
      { key: key('RETRY'), quantityDelta: 5, sourceTime: at('10:00'), reason: '' },
    ]);
    const before = await rowCounts(t.database);
    const again = await adjust('retry-1', [
      { key: key('RETRY'), quantityDelta: 5, sourceTime: at('10:00'), reason: '' },
    ]);
    expect(again).toEqual(first);
    expect(await rowCounts(t.database)).toEqual(before);
    expect(await onhand('RETRY')).toBe(5);
  });

  it('applies a request sent many times at once exactly once, and answers every copy alike', async () => {
    const request = {
      requestId: 'dup-1',
      lines: [{ key: key('DUP'), quantityDelta: 7, sourceTime: at('10:00'), reason: '' }],
    };
    const connections = Array.from({ length: 4 }, () => t.connect());
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => connections[i % 4]!.clients.supply.adjustSupply(request)),
    );
    connections.forEach((c) => c.close());
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await onhand('DUP')).toBe(7);
    expect(await ledgerOfRequest(SUPPLY, { db: t.database.db.knex, requestId: 'dup-1' })).toHaveLength(1);
  });

  it('refuses a request id reused with different content', async () => {
    await adjust('reuse-1', [{ key: key('REUSE'), quantityDelta: 5, sourceTime: at('10:00'), reason: '' }]);
    const err = await grpcError(
      adjust('reuse-1', [{ key: key('REUSE'), quantityDelta: 6, sourceTime: at('10:00'), reason: '' }]),
    );
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(errorDetails(err).errorInfo?.reason).toBe('REQUEST_ID_REUSED');
    expect(await onhand('REUSE')).toBe(5);
  });

  it('applies a batch atomically: one unknown node and no line is written', async () => {
    const before = await rowCounts(t.database);
    const err = await grpcError(
      sync('atomic-1', [
        { key: key('ATOMIC', 'DC1'), quantity: 10, sourceTime: at('10:00') },
        { key: key('ATOMIC', 'NOWHERE'), quantity: 10, sourceTime: at('10:00') },
      ]),
    );
    expect(err.code).toBe(status.NOT_FOUND);
    expect(errorDetails(err).errorInfo).toMatchObject({ reason: 'NODE_NOT_FOUND', metadata: { node_ids: 'NOWHERE' } });
    expect(await rowCounts(t.database)).toEqual(before);
  });

  it('applies several lines of one batch, including two changes to one position in order', async () => {
    const res = await adjust('multi-1', [
      { key: key('MULTI', 'DC1'), quantityDelta: 10, sourceTime: at('10:00'), reason: 'RECEIPT' },
      { key: key('MULTI', 'DC2'), quantityDelta: 4, sourceTime: at('10:00'), reason: 'RECEIPT' },
      { key: key('MULTI', 'DC1'), quantityDelta: -3, sourceTime: at('10:01'), reason: 'DAMAGED' },
    ]);
    expect(res.results.map((r) => [r.quantityBefore, r.quantityAfter])).toEqual([
      [0, 10],
      [0, 4],
      [10, 7],
    ]);
    expect(await onhand('MULTI', 'DC1')).toBe(7);
    expect(await onhand('MULTI', 'DC2')).toBe(4);
  });

  it('refuses a batch over the maximum of 1000 lines', async () => {
    const lines = Array.from({ length: 1001 }, (_, i) => ({
      key: key(`BIG-${i}`),
      quantity: 1,
      sourceTime: at('10:00'),
    }));
    const before = await rowCounts(t.database);
    const err = await grpcError(sync('big-1', lines));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(err).errorInfo).toMatchObject({
      reason: 'BATCH_TOO_LARGE',
      metadata: { max_lines: '1000', lines: '1001' },
    });
    expect(await rowCounts(t.database)).toEqual(before);
  });

  it('accepts a batch of exactly 1000 lines', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => ({
      key: key(`FULL-${i}`),
      quantity: i,
      sourceTime: at('10:00'),
    }));
    const res = await sync('full-1', lines);
    expect(res.results).toHaveLength(1000);
    expect(await onhand('FULL-999')).toBe(999);
  });

  it('keeps item ids that differ only in case apart, on every database', async () => {
    await sync('case-1', [
      { key: key('case-sku'), quantity: 1, sourceTime: at('10:00') },
      { key: key('CASE-SKU'), quantity: 2, sourceTime: at('10:00') },
    ]);
    expect([await onhand('case-sku'), await onhand('CASE-SKU')]).toEqual([1, 2]);
  });

  it('lists supply page by page, filtered by node and item', async () => {
    await sync(
      'page-1',
      ['P1', 'P2', 'P3'].flatMap((nodeItem) => [
        { key: key(`PAGED-${nodeItem}`, 'DC2'), quantity: 1, sourceTime: at('10:00') },
      ]),
    );
    const seen: string[] = [];
    let pageToken = '';
    do {
      const res = await t.clients.supply.listSupply({ nodeId: 'DC2', itemId: '', pageSize: 2, pageToken });
      seen.push(...res.supplies.map((s) => s.key!.item!.itemId));
      pageToken = res.nextPageToken;
    } while (pageToken);
    expect(seen.filter((id) => id.startsWith('PAGED-'))).toEqual(['PAGED-P1', 'PAGED-P2', 'PAGED-P3']);
    const one = await t.clients.supply.listSupply({ nodeId: '', itemId: 'PAGED-P2', pageSize: 0, pageToken: '' });
    expect(one.supplies.map((s) => [s.key?.nodeId, s.quantity])).toEqual([['DC2', 1]]);
    // A token only continues the query it came from.
    const first = await t.clients.supply.listSupply({ nodeId: 'DC2', itemId: '', pageSize: 1, pageToken: '' });
    const err = await grpcError(
      t.clients.supply.listSupply({ nodeId: 'DC1', itemId: '', pageSize: 1, pageToken: first.nextPageToken }),
    );
    expect(errorDetails(err).errorInfo?.metadata).toEqual({ field: 'page_token' });
  });

  describe('refuses careless input with a named field and writes nothing', () => {
    const good: pb.SupplySyncLine = { key: key('CARELESS'), quantity: 1, sourceTime: at('10:00') };
    const cases: Array<[string, pb.SyncSupplyRequest, string]> = [
      ['a negative quantity', { requestId: 'bad-1', lines: [{ ...good, quantity: -1 }] }, 'lines[0].quantity'],
      [
        'an unknown supply type',
        { requestId: 'bad-2', lines: [{ ...good, key: key('CARELESS', 'DC1', { supplyType: 42 as pb.SupplyType }) }] },
        'lines[0].key.supply_type',
      ],
      [
        'an unspecified supply type',
        {
          requestId: 'bad-3',
          lines: [{ ...good, key: key('CARELESS', 'DC1', { supplyType: pb.SupplyType.SUPPLY_TYPE_UNSPECIFIED }) }],
        },
        'lines[0].key.supply_type',
      ],
      ['a missing key', { requestId: 'bad-4', lines: [{ ...good, key: undefined }] }, 'lines[0].key'],
      ['a missing item id', { requestId: 'bad-5', lines: [{ ...good, key: key('') }] }, 'lines[0].key.item.item_id'],
      [
        'a missing node id',
        { requestId: 'bad-6', lines: [{ ...good, key: key('CARELESS', '') }] },
        'lines[0].key.node_id',
      ],
      [
        'a missing source time',
        { requestId: 'bad-7', lines: [{ ...good, sourceTime: undefined }] },
        'lines[0].source_time',
      ],
      [
        'a source time before 1970',
        { requestId: 'bad-8', lines: [{ ...good, sourceTime: new Date('1960-01-01T00:00:00Z') }] },
        'lines[0].source_time',
      ],
      [
        'in-transit supply without an ETA',
        {
          requestId: 'bad-9',
          lines: [{ ...good, key: key('CARELESS', 'DC1', { supplyType: pb.SupplyType.SUPPLY_TYPE_INTRANSIT }) }],
        },
        'lines[0].key.eta_time',
      ],
      [
        'ONHAND supply with an ETA',
        { requestId: 'bad-10', lines: [{ ...good, key: key('CARELESS', 'DC1', { etaTime: at('18:00') }) }] },
        'lines[0].key.eta_time',
      ],
      ['no lines', { requestId: 'bad-11', lines: [] }, 'lines'],
      ['no request id', { requestId: '', lines: [good] }, 'request_id'],
      ['two lines for one position', { requestId: 'bad-12', lines: [good, good] }, 'lines[1].key'],
    ];
    it.each(cases)('%s', async (_name, request, field) => {
      const before = await rowCounts(t.database);
      const err = await grpcError(t.clients.supply.syncSupply(request));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      const details = errorDetails(err);
      expect(details.errorInfo).toMatchObject({
        reason: 'INVALID_ARGUMENT',
        domain: 'inventory.v1',
        metadata: { field },
      });
      expect(details.badRequest?.fieldViolations[0]?.field).toBe(field);
      expect(err.details).toContain(field);
      expect(await rowCounts(t.database)).toEqual(before);
    });

    it('a zero or fractional delta', async () => {
      const err = await grpcError(
        adjust('bad-13', [{ key: key('CARELESS'), quantityDelta: 0, sourceTime: at('10:00'), reason: '' }]),
      );
      expect(errorDetails(err).errorInfo?.metadata).toEqual({ field: 'lines[0].quantity_delta' });
      // A fractional quantity cannot be encoded as int64: the client refuses it before anything is sent.
      await expect(
        adjust('bad-14', [{ key: key('CARELESS'), quantityDelta: 1.5, sourceTime: at('10:00'), reason: '' }]),
      ).rejects.toThrow();
      expect(await onhand('CARELESS')).toBeUndefined();
    });

    it('a quantity too large to decode', async () => {
      const err = await grpcError(
        adjust('bad-16', [{ key: key('CARELESS'), quantityDelta: 2 ** 60, sourceTime: at('10:00'), reason: '' }]),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(errorDetails(err).errorInfo?.reason).toBe('MALFORMED_REQUEST');
      expect(err.details).toContain('could not be decoded');
    });

    it('a segment that is not defined', async () => {
      const err = await grpcError(
        sync('bad-15', [
          { ...good, key: key('CARELESS', 'DC1', { segment: { segmentType: 'CHANNEL', segment: 'B2B' } }) },
        ]),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(errorDetails(err).errorInfo?.reason).toBe('SEGMENT_NOT_DEFINED');
    });

    it('reports every bad field of a request at once', async () => {
      const err = await grpcError(sync('', [{ key: key('', ''), quantity: -1, sourceTime: undefined }]));
      expect(errorDetails(err).badRequest?.fieldViolations.map((v) => v.field)).toEqual([
        'request_id',
        'lines[0].key.item.item_id',
        'lines[0].key.node_id',
        'lines[0].quantity',
        'lines[0].source_time',
      ]);
    });
  });

  it("records an adjust's stated purpose (a cycle count's correction) and actor, and refuses the service's own purposes", async () => {
    await sync('cc-0', [{ key: key('CC'), quantity: 50, sourceTime: at('12:00') }]);
    const request: pb.AdjustSupplyRequest = {
      requestId: 'cc-1',
      lines: [{ key: key('CC'), quantityDelta: -4, sourceTime: at('12:05'), reason: 'CYCLE_COUNT' }],
      purpose: pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT,
      actor: 'supervisor-1',
    };
    const answer = await t.clients.supply.adjustSupply(request);
    expect(answer.results[0]).toMatchObject({ quantityBefore: 50, quantityAfter: 46 });
    const [ledger] = await ledgerOfRequest(SUPPLY, { db: t.database.db.knex, requestId: 'cc-1' });
    expect(
      await t.database.db.knex('supply_ledger').where({ request_id: 'cc-1' }).select('purpose', 'audit_type', 'actor'),
    ).toEqual([{ purpose: 'CYCLE_COUNT', audit_type: 'USER', actor: 'supervisor-1' }]);
    const events = await outboxOfAction({ db: t.database.db.knex, actionId: ledger!.actionId });
    const changed = events.find((e) => e.type === 'supply_changed');
    expect(changed).toMatchObject({
      auditType: pb.AuditType.AUDIT_TYPE_USER,
      actor: 'supervisor-1',
      requestId: 'cc-1',
    });
    expect(changed?.supplyChanged?.purpose).toBe(pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT);
    // A retry is answered once; the same id as a plain adjust is another request.
    expect(await t.clients.supply.adjustSupply(request)).toEqual(answer);
    const reused = await grpcError(t.clients.supply.adjustSupply({ ...request, purpose: undefined }));
    expect(errorDetails(reused).errorInfo?.reason).toBe('REQUEST_ID_REUSED');
    expect(await onhand('CC')).toBe(46);

    for (const purpose of [
      pb.SupplyPurpose.SUPPLY_PURPOSE_SEGMENT_ALLOCATION,
      pb.SupplyPurpose.SUPPLY_PURPOSE_SUPPLY_SYNC,
    ]) {
      const err = await grpcError(
        t.clients.supply.adjustSupply({ ...request, requestId: `cc-bad-${purpose}`, purpose }),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(errorDetails(err).errorInfo?.metadata['field']).toBe('purpose');
    }
    const long = await grpcError(
      t.clients.supply.adjustSupply({ ...request, requestId: 'cc-long', actor: 'x'.repeat(129) }),
    );
    expect(errorDetails(long).errorInfo?.metadata['field']).toBe('actor');
    expect(await onhand('CC')).toBe(46);
  });

  it('sums 50 parallel adjusts of one item-node exactly (no lost update)', async () => {
    await sync('hot-0', [{ key: key('HOT'), quantity: 1000, sourceTime: at('09:00') }]);
    const connections = Array.from({ length: 5 }, () => t.connect());
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        connections[i % 5]!.clients.supply.adjustSupply({
          requestId: `hot-${i + 1}`,
          lines: [
            { key: key('HOT'), quantityDelta: i % 2 === 0 ? -(i + 1) : i + 1, sourceTime: at('10:00'), reason: '' },
          ],
        }),
      ),
    );
    connections.forEach((c) => c.close());
    const expected =
      1000 + Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? -(i + 1) : i + 1)).reduce((a, b) => a + b, 0);
    expect(await onhand('HOT')).toBe(expected);
    // Every adjust saw the one before it: the before/after pairs form one unbroken chain.
    const steps = results
      .map((r) => [r.results[0]!.quantityBefore, r.results[0]!.quantityAfter] as const)
      .sort((a, b) => a[0] - b[0]);
    const afters = new Set(steps.map(([, after]) => after));
    expect(steps.filter(([before]) => before !== 1000 && !afters.has(before))).toEqual([]);
    const ledger = await t.database.db
      .knex('supply_ledger')
      .where('request_id', 'like', 'hot-%')
      .count({ n: '*' })
      .first();
    expect(Number(ledger?.n)).toBe(51);
  });
});
