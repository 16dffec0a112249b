import { status } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { grpcError } from '@inventory/grpc-server/testing';
import { describeEachDatabase } from '@inventory/store/testing';
import { AllocationApp, caughtUp, startAudit, type TestAudit } from './testing/harness';

const { CountLineState, CountTaskState, AbcClass } = pb.auditV1;
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const STORE: pb.SegmentKey = { segmentType: 'CHANNEL', segment: 'STORE' };
const item = (itemId: string): pb.ItemKey => ({ itemId, unitOfMeasure: 'EACH', productClass: '' });
const onhand = (itemId: string, segment = POOL): pb.SupplyKey => ({
  item: item(itemId),
  nodeId: 'DC1',
  segment,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

describeEachDatabase('cycle counts', (dialect) => {
  let app: AllocationApp;
  let audit: TestAudit;
  let requests = 0;
  const counts = () => audit.clients.counts;
  const create = (req: Partial<pb.auditV1.CreateCountTaskRequest>) =>
    counts().createCountTask(pb.auditV1.CreateCountTaskRequest.fromPartial(req));
  const adjust = (itemId: string, delta: number, segment = POOL) =>
    app.clients.supply.adjustSupply({
      requestId: `move-${++requests}`,
      lines: [{ key: onhand(itemId, segment), quantityDelta: delta, sourceTime: new Date(), reason: 'MOVE' }],
      purpose: pb.SupplyPurpose.SUPPLY_PURPOSE_UNSPECIFIED,
      actor: '',
    });
  /** Waits a little, so that times before and after a moment are apart on every clock. */
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const record = (taskId: string, itemId: string, countedQuantity: number, countTime = new Date()) =>
    counts().recordCount({
      requestId: `count-${++requests}`,
      taskId,
      item: item(itemId),
      countedQuantity,
      countTime,
      counter: 'counter-7',
    });
  const shelf = async (itemId: string) => {
    let total = 0;
    for (const segment of [POOL, STORE]) {
      const { supplies } = await app.clients.supply.getSupply({ item: item(itemId), nodeId: 'DC1', segment });
      total += supplies.reduce((sum, s) => sum + s.quantity, 0);
    }
    return total;
  };

  beforeAll(async () => {
    app = await AllocationApp.start(dialect);
    audit = await startAudit(dialect, app.address);
    await app.define(['DC1', 'DC2'], [STORE]);
  });
  afterAll(async () => {
    await audit?.stop();
    await app?.stop();
  });

  it('counts blind against the shelf at the count time, asks for a recount, and posts the variance on approval', async () => {
    await app.clients.supply.syncSupply({
      requestId: 'shelf-1',
      lines: [
        { key: onhand('COUNT-1'), quantity: 100, sourceTime: new Date(Date.now() - 60_000) },
        { key: onhand('COUNT-1', STORE), quantity: 20, sourceTime: new Date(Date.now() - 60_000) },
      ],
    });
    await caughtUp(app, audit.clients);
    const { task } = await create({
      requestId: 'task-1',
      nodeId: 'DC1',
      items: [item('COUNT-1')],
      topMovers: 0,
      blind: true,
      toleranceBasisPoints: 0,
    });
    // The only item with movement at DC1: class A, 1 %.
    expect(task!.lines[0]).toMatchObject({ abcClass: AbcClass.ABC_CLASS_A, toleranceBasisPoints: 100 });
    expect(task!.lines[0]!.state).toBe(CountLineState.COUNT_LINE_STATE_PENDING);

    await adjust('COUNT-1', -5); // sold before the count: the shelf holds 115
    await caughtUp(app, audit.clients);
    await tick();
    const first = await record(task!.taskId, 'COUNT-1', 110);
    // Beyond 1 % of 115: a recount, and the blind counter sees neither the system quantity nor the variance.
    expect(first.line).toMatchObject({
      state: CountLineState.COUNT_LINE_STATE_RECOUNT_REQUIRED,
      countedQuantity: 110,
      counts: 1,
    });
    expect(first.line!.systemQuantity).toBeUndefined();
    expect(first.line!.variance).toBeUndefined();
    expect(first.taskState).toBe(CountTaskState.COUNT_TASK_STATE_OPEN);

    await tick();
    await adjust('COUNT-1', -3); // sold while the counter walks back: 112
    await caughtUp(app, audit.clients);
    await tick();
    const recount = await record(task!.taskId, 'COUNT-1', 107);
    // Still 5 short, now of 112: the recount stands, and with the task counted the supervisor sees it all.
    expect(recount.line).toMatchObject({
      state: CountLineState.COUNT_LINE_STATE_COUNTED,
      countedQuantity: 107,
      systemQuantity: 112,
      variance: -5,
      withinTolerance: false,
      counts: 2,
      firstCountedQuantity: 110,
      firstVariance: -5,
    });
    expect(recount.taskState).toBe(CountTaskState.COUNT_TASK_STATE_COUNTED);

    await tick();
    await adjust('COUNT-1', 10); // a receipt after the count and before the approval
    const approve = { requestId: 'approve-1', taskId: task!.taskId, approver: 'supervisor-1' };
    const approved = (await counts().approveCountTask(approve)).task!;
    expect(approved).toMatchObject({
      state: CountTaskState.COUNT_TASK_STATE_APPROVED,
      approver: 'supervisor-1',
      adjustmentRequestId: `cycle-count-${task!.taskId}`,
    });
    expect(approved.lines[0]!.state).toBe(CountLineState.COUNT_LINE_STATE_APPROVED);
    // What was counted plus what moved since: 107 + 10.
    expect(await shelf('COUNT-1')).toBe(117);

    await caughtUp(app, audit.clients);
    const { records } = await audit.clients.audit.listSupplyAudit(
      pb.auditV1.ListSupplyAuditRequest.fromPartial({
        itemId: 'COUNT-1',
        purposes: [pb.SupplyPurpose.SUPPLY_PURPOSE_CYCLE_COUNT],
      }),
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      requestId: `cycle-count-${task!.taskId}`,
      auditType: pb.AuditType.AUDIT_TYPE_USER,
      actor: 'supervisor-1',
      key: onhand('COUNT-1'),
      quantityChange: -5,
      reason: 'CYCLE_COUNT',
    });

    // A retry answers the same; another approval is refused.
    expect((await counts().approveCountTask(approve)).task).toEqual(approved);
    const again = await grpcError(counts().approveCountTask({ ...approve, requestId: 'approve-2' }));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails(again).errorInfo).toMatchObject({
      reason: 'COUNT_TASK_APPROVED',
      metadata: { approver: 'supervisor-1' },
    });
    expect(await shelf('COUNT-1')).toBe(117);

    const { accuracy } = await counts().getCountAccuracy({ nodeId: 'DC1', startTime: undefined, endTime: undefined });
    expect(accuracy).toEqual([
      {
        nodeId: 'DC1',
        abcClass: AbcClass.ABC_CLASS_UNSPECIFIED,
        counts: 1,
        withinTolerance: 0,
        accuracyBasisPoints: 0,
        totalAbsoluteVariance: 5,
      },
      {
        nodeId: 'DC1',
        abcClass: AbcClass.ABC_CLASS_A,
        counts: 1,
        withinTolerance: 0,
        accuracyBasisPoints: 0,
        totalAbsoluteVariance: 5,
      },
    ]);
  });

  it('picks the top movers, shows an open count the system quantity, and posts nothing for counts that match', async () => {
    for (const [itemId, moves] of [
      ['MOVER-1', 3],
      ['MOVER-2', 2],
      ['MOVER-3', 1],
    ] as const)
      for (let n = 0; n < moves; n++) await adjust(itemId, 10);
    await caughtUp(app, audit.clients);
    const { task } = await create({
      requestId: 'task-movers',
      nodeId: 'DC1',
      items: [],
      topMovers: 2,
      blind: false,
      toleranceBasisPoints: 500,
    });
    expect(task!.lines.map((l) => l.item!.itemId)).toEqual(['COUNT-1', 'MOVER-1']);
    // Retried, the same task; the same request id with other fields, refused.
    const retried = await create({
      requestId: 'task-movers',
      nodeId: 'DC1',
      items: [],
      topMovers: 2,
      blind: false,
      toleranceBasisPoints: 500,
    });
    expect(retried.task).toEqual(task);
    const reused = await grpcError(
      create({
        requestId: 'task-movers',
        nodeId: 'DC1',
        items: [],
        topMovers: 3,
        blind: false,
        toleranceBasisPoints: 500,
      }),
    );
    expect(errorDetails(reused).errorInfo?.reason).toBe('REQUEST_ID_REUSED');

    await tick();
    const open = await grpcError(
      counts().approveCountTask({ requestId: 'approve-open', taskId: task!.taskId, approver: 'sv' }),
    );
    expect(errorDetails(open).errorInfo).toMatchObject({
      reason: 'COUNT_INCOMPLETE',
      metadata: { pending_lines: '2' },
    });
    const mover = await record(task!.taskId, 'MOVER-1', 30);
    expect(mover.line).toMatchObject({
      systemQuantity: 30,
      variance: 0,
      withinTolerance: true,
      state: CountLineState.COUNT_LINE_STATE_COUNTED,
    });
    const closed = await grpcError(record(task!.taskId, 'MOVER-1', 31));
    expect(errorDetails(closed).errorInfo?.reason).toBe('COUNT_LINE_CLOSED');
    const count1 = await record(task!.taskId, 'COUNT-1', 117);
    expect(count1.line).toMatchObject({ variance: 0, state: CountLineState.COUNT_LINE_STATE_COUNTED });
    const approved = (
      await counts().approveCountTask({ requestId: 'approve-movers', taskId: task!.taskId, approver: 'sv' })
    ).task!;
    expect(approved.adjustmentRequestId).toBe('');
    expect(await shelf('MOVER-1')).toBe(30);
  });

  it('refuses what it cannot count, and counts while its records may be behind', async () => {
    const { task } = await create({
      requestId: 'task-errors',
      taskId: 'count-errors',
      nodeId: 'DC1',
      items: [item('COUNT-1')],
      topMovers: 0,
      blind: false,
      toleranceBasisPoints: 0,
    });
    const taskId = task!.taskId;
    expect(taskId).toBe('count-errors');
    const bad = async (call: Promise<unknown>, code: status, reason: string, field?: string) => {
      const err = await grpcError(call);
      expect(err.code).toBe(code);
      expect(errorDetails(err).errorInfo?.reason).toBe(reason);
      if (field) expect(errorDetails(err).errorInfo?.metadata['field']).toBe(field);
    };
    await bad(
      record(taskId, 'COUNT-1', 1, new Date(Date.now() + 60_000)),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
      'count_time',
    );
    await bad(
      record(taskId, 'COUNT-1', 1, new Date(Date.now() - 3_600_000)),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
      'count_time',
    );
    await bad(record(taskId, 'COUNT-1', -1), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', 'counted_quantity');
    await bad(record(taskId, 'NOT-IN-TASK', 1), status.NOT_FOUND, 'COUNT_LINE_NOT_FOUND');
    await bad(record('no-such-task', 'COUNT-1', 1), status.NOT_FOUND, 'COUNT_TASK_NOT_FOUND');
    await bad(
      create({
        requestId: 'both',
        nodeId: 'DC1',
        items: [item('A')],
        topMovers: 1,
        blind: false,
        toleranceBasisPoints: 0,
      }),
      status.INVALID_ARGUMENT,
      'INVALID_ARGUMENT',
      'items',
    );
    await bad(
      create({ requestId: 'nowhere', nodeId: 'DC9', items: [item('COUNT-1')] }),
      status.NOT_FOUND,
      'NODE_NOT_FOUND',
    );
    await bad(
      create({ requestId: 'taken', taskId: 'count-errors', nodeId: 'DC1', items: [item('COUNT-1')] }),
      status.ALREADY_EXISTS,
      'COUNT_TASK_ALREADY_EXISTS',
    );
    await bad(
      create({
        requestId: 'nothing',
        nodeId: 'DC2',
        items: [],
        topMovers: 5,
        blind: false,
        toleranceBasisPoints: 0,
      }),
      status.FAILED_PRECONDITION,
      'NO_ITEMS_TO_COUNT',
    );
    // A retried count answers the same and counts once.
    const request = {
      requestId: 'count-retry',
      taskId,
      item: item('COUNT-1'),
      countedQuantity: 117,
      countTime: undefined, // now
      counter: 'c',
    };
    const answer = await counts().recordCount(request);
    await tick();
    expect(await counts().recordCount(request)).toEqual(answer);
    expect(answer.line!.counts).toBe(1);
    expect(answer.line!.countTime!.getTime()).toBeGreaterThanOrEqual(task!.createTime!.getTime());

    await audit.service.consumer.stop();
    await bad(record(taskId, 'COUNT-1', 1), status.FAILED_PRECONDITION, 'AUDIT_NOT_CURRENT');
  });
});
