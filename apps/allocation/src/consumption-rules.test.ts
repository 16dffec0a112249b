import { credentials, status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { defineSegments } from './testing/stock';
import {
  grpcError,
  promisify,
  rowCounts,
  startTestService,
  type Promisified,
  type TestService,
} from './testing/harness';

const seg = (segment: string, segmentType = 'CHANNEL'): pb.SegmentKey => ({ segmentType, segment });
const rule = (segment: pb.SegmentKey, over: Partial<pb.SegmentConsumptionRule> = {}): pb.SegmentConsumptionRule => ({
  segment,
  mayBorrow: true,
  ...over,
});

describeEachDatabase('consumption rules', (dialect) => {
  let t: TestService;
  let rules: Promisified<pb.ConsumptionRuleServiceClient>;
  let client: pb.ConsumptionRuleServiceClient;
  beforeAll(async () => {
    t = await startTestService(dialect);
    client = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    rules = promisify(client);
    await defineSegments(t.address, [
      ...['STORE', 'ONLINE', 'A', 'B', 'ONE_MORE'].map((s) => seg(s)),
      seg('B2B', 'CUSTOMER_TYPE'),
    ]);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  const versionCount = async () =>
    Number((await t.database.db.knex('consumption_rule_versions').count({ n: '*' }).first())?.n);

  it('has version 0 in force before any set: borrowing off, no rules, nothing listed', async () => {
    expect((await rules.getConsumptionRules({ version: 0 })).consumptionRules).toEqual({
      version: 0,
      borrowingEnabled: false,
      segments: [],
      createTime: undefined,
      requestId: '',
    });
    expect(await rules.listConsumptionRuleVersions({ pageSize: 0, pageToken: '' })).toEqual({
      consumptionRules: [],
      nextPageToken: '',
    });
    const missing = await grpcError(rules.getConsumptionRules({ version: 1 }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(errorDetails(missing).errorInfo).toMatchObject({
      reason: 'CONSUMPTION_RULES_VERSION_NOT_FOUND',
      metadata: { version: '1' },
    });
  });

  it('makes a version per change, returns the first answer on a retry and keeps every version', async () => {
    const before = Date.now();
    const first = await rules.setConsumptionRules({
      requestId: 'rules-1',
      borrowingEnabled: true,
      segments: [
        rule(seg('STORE'), { capQuantity: 0, capRatio: 0.3333334, keepInPool: 5 }),
        rule(seg('ONLINE'), { mayBorrow: false }),
      ],
    });
    expect(first.consumptionRules).toEqual({
      version: 1,
      borrowingEnabled: true,
      segments: [
        { segment: seg('STORE'), mayBorrow: true, capQuantity: 0, capRatio: 0.333333, keepInPool: 5 },
        { segment: seg('ONLINE'), mayBorrow: false },
      ],
      createTime: expect.any(Date),
      requestId: 'rules-1',
    });
    expect(first.consumptionRules!.createTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const retried = await rules.setConsumptionRules({
      requestId: 'rules-1',
      borrowingEnabled: true,
      segments: [
        rule(seg('STORE'), { capQuantity: 0, capRatio: 0.3333334, keepInPool: 5 }),
        rule(seg('ONLINE'), { mayBorrow: false }),
      ],
    });
    expect(retried).toEqual(first);
    const reused = await grpcError(
      rules.setConsumptionRules({ requestId: 'rules-1', borrowingEnabled: false, segments: [] }),
    );
    expect([reused.code, errorDetails(reused).errorInfo?.reason]).toEqual([status.ALREADY_EXISTS, 'REQUEST_ID_REUSED']);
    expect(await versionCount()).toBe(1);

    const second = await rules.setConsumptionRules({ requestId: 'rules-2', borrowingEnabled: false, segments: [] });
    expect(second.consumptionRules).toMatchObject({ version: 2, borrowingEnabled: false, segments: [] });
    const third = await rules.setConsumptionRules({
      requestId: 'rules-3',
      borrowingEnabled: true,
      segments: [rule(seg('B2B', 'CUSTOMER_TYPE'), { capRatio: 1 })],
    });
    expect(third.consumptionRules?.version).toBe(3);

    expect((await rules.getConsumptionRules({ version: 0 })).consumptionRules).toEqual(third.consumptionRules);
    expect((await rules.getConsumptionRules({ version: 1 })).consumptionRules).toEqual(first.consumptionRules);
    expect((await rules.getConsumptionRules({ version: 2 })).consumptionRules).toEqual(second.consumptionRules);
    expect((await grpcError(rules.getConsumptionRules({ version: 4 }))).code).toBe(status.NOT_FOUND);

    const pages: number[][] = [];
    let pageToken = '';
    do {
      const res = await rules.listConsumptionRuleVersions({ pageSize: 2, pageToken });
      pages.push(res.consumptionRules.map((r) => r.version));
      pageToken = res.nextPageToken;
    } while (pageToken);
    expect(pages).toEqual([[3, 2], [1]]);
    const all = await rules.listConsumptionRuleVersions({ pageSize: 0, pageToken: '' });
    expect(all.consumptionRules).toEqual([third.consumptionRules, second.consumptionRules, first.consumptionRules]);
  });

  it('announces each new version in a consumption_rules_changed event of the same transaction', async () => {
    const set = await rules.setConsumptionRules({
      requestId: 'rules-event',
      borrowingEnabled: true,
      segments: [rule(seg('STORE'), { keepInPool: 3 })],
    });
    const events = await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 1000 });
    const announced = events.filter((e) => e.type === 'consumption_rules_changed');
    expect(announced.map((e) => e.consumptionRulesChanged?.consumptionRules?.version)).toEqual(
      Array.from({ length: await versionCount() }, (_, i) => i + 1),
    );
    expect(announced.at(-1)).toMatchObject({
      requestId: 'rules-event',
      auditType: pb.AuditType.AUDIT_TYPE_USER,
      consumptionRulesChanged: { consumptionRules: set.consumptionRules },
    });
    expect(events.filter((e) => e.requestId === 'rules-event').map((e) => e.type)).toEqual([
      'consumption_rules_changed',
    ]);
  });

  it('keeps 100 rules with the longest segment names, and refuses a 101st', async () => {
    const name = (i: number, length: number) => `${i}`.padEnd(length, 'X');
    const longest = Array.from({ length: 100 }, (_, i) => ({ segmentType: name(i, 32), segment: name(i, 64) }));
    await defineSegments(t.address, longest);
    const many = longest.map((segment) => rule(segment, { capQuantity: 1e12, capRatio: 1, keepInPool: 1e12 }));
    const set = await rules.setConsumptionRules({ requestId: 'rules-many', borrowingEnabled: true, segments: many });
    const version = set.consumptionRules!.version;
    expect((await rules.getConsumptionRules({ version })).consumptionRules?.segments).toEqual(many);
    const more = [...many, rule(seg('ONE_MORE'))];
    const err = await grpcError(
      rules.setConsumptionRules({ requestId: 'rules-too-many', borrowingEnabled: true, segments: more }),
    );
    expect([err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([status.INVALID_ARGUMENT, 'segments']);
  });

  it('refuses a bad rule set, names the field and changes nothing', async () => {
    const rowsBefore = await rowCounts(t.database);
    const versionsBefore = await versionCount();
    const refused: Array<[pb.SetConsumptionRulesRequest, string]> = [
      [{ requestId: '', borrowingEnabled: true, segments: [] }, 'request_id'],
      [{ requestId: 'b1', borrowingEnabled: true, segments: [rule(seg('', ''))] }, 'segments[0].segment'],
      [{ requestId: 'b2', borrowingEnabled: true, segments: [{ mayBorrow: true }] }, 'segments[0].segment'],
      [
        { requestId: 'b3', borrowingEnabled: true, segments: [rule(seg('STORE', ''))] },
        'segments[0].segment.segment_type',
      ],
      [
        { requestId: 'b4', borrowingEnabled: true, segments: [rule(seg('', 'CHANNEL'))] },
        'segments[0].segment.segment',
      ],
      [
        { requestId: 'b5', borrowingEnabled: true, segments: [rule(seg('A')), rule(seg('B')), rule(seg('A'))] },
        'segments[2].segment',
      ],
      [
        { requestId: 'b6', borrowingEnabled: true, segments: [rule(seg('A'), { capQuantity: -1 })] },
        'segments[0].cap_quantity',
      ],
      [
        { requestId: 'b7', borrowingEnabled: true, segments: [rule(seg('A'), { keepInPool: -1 })] },
        'segments[0].keep_in_pool',
      ],
      ...[-0.000001, 1.000001, Number.NaN, Number.POSITIVE_INFINITY].map(
        (capRatio, i): [pb.SetConsumptionRulesRequest, string] => [
          { requestId: `b8-${i}`, borrowingEnabled: true, segments: [rule(seg('A')), rule(seg('B'), { capRatio })] },
          'segments[1].cap_ratio',
        ],
      ),
    ];
    for (const [request, field] of refused) {
      const err = await grpcError(rules.setConsumptionRules(request));
      expect([request.requestId, err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([
        request.requestId,
        status.INVALID_ARGUMENT,
        field,
      ]);
    }
    expect(await rowCounts(t.database)).toEqual(rowsBefore);
    expect(await versionCount()).toBe(versionsBefore);

    const negative = await grpcError(rules.getConsumptionRules({ version: -1 }));
    expect([negative.code, errorDetails(negative).errorInfo?.metadata['field']]).toEqual([
      status.INVALID_ARGUMENT,
      'version',
    ]);
    for (const [request, field] of [
      [{ pageSize: -1, pageToken: '' }, 'page_size'],
      [{ pageSize: 1, pageToken: 'garbage' }, 'page_token'],
    ] as const) {
      const err = await grpcError(rules.listConsumptionRuleVersions(request));
      expect([err.code, errorDetails(err).errorInfo?.metadata['field']]).toEqual([status.INVALID_ARGUMENT, field]);
    }
  });
});
