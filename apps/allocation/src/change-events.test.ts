import * as pb from '@inventory/contracts';
import { readOutbox } from '@inventory/store';
import { describeEachDatabase } from '@inventory/store/testing';
import { startTestService, type TestService } from './testing/harness';
import { atNode, inGroup, item } from './testing/stock';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000);
const onhandAt = (nodeId: string): pb.SupplyKey => ({
  item: item('EV'),
  nodeId,
  segment: undefined,
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});
const demandAt = (nodeId: string): pb.DemandKey => ({
  item: item('EV'),
  nodeId,
  segment: undefined,
  demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
  orderReference: '',
});

/** One line per event: its type and the fields that say what it announces. */
function summary(e: pb.ChangeEvent): string {
  const at = (k: { item?: pb.ItemKey; nodeId: string } | undefined) => `${k?.item?.itemId}@${k?.nodeId}`;
  const held = (r: pb.Reservation | undefined) =>
    `${r?.reservationId} ${pb.ReservationState[r?.state ?? 0]} ${r?.lines.flatMap((l) => l.allocations.map((a) => `${a.nodeId}:${a.quantity}`)).join(',')}`;
  const line = (t: pb.SupplyTransaction | pb.DemandTransaction | undefined) =>
    `${pb.TransactionType[t?.transactionType ?? 0]} ${t?.quantity} ${t?.quantityBefore}->${t?.quantityAfter}`;
  const p = e.positionAvailabilityChanged;
  const payload =
    (e.nodeCreated && e.nodeCreated.node?.nodeId) ??
    (e.distributionGroupCreated &&
      `${e.distributionGroupCreated.distributionGroup?.distributionGroupId} ${e.distributionGroupCreated.distributionGroup?.nodeIds}`) ??
    (e.safetyStockSet && `${at(e.safetyStockSet.safetyStock)} ${e.safetyStockSet.safetyStock?.quantity}`) ??
    (e.safetyStockDeleted && at(e.safetyStockDeleted)) ??
    (e.supplyChanged && `${at(e.supplyChanged.key)} ${line(e.supplyChanged)}`) ??
    (e.supplyIgnored && `${at(e.supplyIgnored.key)} ${line(e.supplyIgnored)}`) ??
    (e.demandChanged &&
      `${at(e.demandChanged.key)} ${pb.DemandType[e.demandChanged.key?.demandType ?? 0]} ${line(e.demandChanged)}`) ??
    (e.demandIgnored && `${at(e.demandIgnored.key)} ${line(e.demandIgnored)}`) ??
    (e.reservationCreated && held(e.reservationCreated.reservation)) ??
    (e.reservationExtended && held(e.reservationExtended.reservation)) ??
    (e.reservationQuantitiesChanged && held(e.reservationQuantitiesChanged.reservation)) ??
    (e.reservationConsumed && held(e.reservationConsumed.reservation)) ??
    (e.reservationReleased && held(e.reservationReleased.reservation)) ??
    (e.reservationExpired && held(e.reservationExpired.reservation)) ??
    (p &&
      `${at(p)} supply ${p.supplyQuantity} demand ${p.demandQuantity} reserved ${p.reservedQuantity} safety ${p.safetyStockQuantity} available ${p.available}`) ??
    'NO PAYLOAD';
  return `${e.type}: ${payload}`;
}

describeEachDatabase('change events', (dialect) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(dialect);
  });
  afterAll(async () => t.stop());

  it('announces every change of a full scenario in a typed envelope that every outbox row decodes as', async () => {
    const { nodes, safetyStock, supply, demand, reservations } = t.clients;
    for (const nodeId of ['DC1', 'DC2']) {
      await nodes.createNode({
        requestId: `node-${nodeId}`,
        node: { nodeId, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
      });
    }
    await nodes.createDistributionGroup({
      requestId: 'group',
      distributionGroup: {
        distributionGroupId: 'EAST',
        nodeIds: ['DC2', 'DC1'],
        description: '',
        createTime: undefined,
      },
    });
    await safetyStock.setSafetyStock({
      requestId: 'ss-node',
      safetyStock: { item: item('EV'), nodeId: 'DC1', quantity: 2, level: 0 },
    });
    await safetyStock.setSafetyStock({
      requestId: 'ss-item',
      safetyStock: { item: item('EV'), nodeId: '', quantity: 1, level: 0 },
    });
    await safetyStock.deleteSafetyStock({ requestId: 'ss-item-del', item: item('EV'), nodeId: '' });
    await supply.syncSupply({
      requestId: 'sync',
      lines: [
        { key: onhandAt('DC1'), quantity: 20, sourceTime: minutesAgo(10) },
        { key: onhandAt('DC2'), quantity: 5, sourceTime: minutesAgo(10) },
      ],
    });
    await supply.adjustSupply({
      requestId: 'adjust',
      lines: [{ key: onhandAt('DC1'), quantityDelta: -3, sourceTime: minutesAgo(5), reason: 'DAMAGED' }],
    });
    await supply.adjustSupply({
      requestId: 'adjust-late',
      lines: [{ key: onhandAt('DC1'), quantityDelta: -1, sourceTime: minutesAgo(20), reason: 'SOLD' }],
    });
    await demand.syncDemand({
      requestId: 'demand',
      lines: [{ key: demandAt('DC1'), quantity: 4, sourceTime: minutesAgo(10) }],
    });
    await reservations.reserve({ reservationId: 'at-node', lines: [atNode('EV', 'DC1', 3)], expireTime: inHours(1) });
    await reservations.reserve({
      reservationId: 'in-group',
      lines: [inGroup('EV', 'EAST', 4)],
      expireTime: inHours(1),
    });
    await reservations.extendReservation({ requestId: 'extend', reservationId: 'at-node', expireTime: inHours(2) });
    await reservations.changeReservationQuantities({
      requestId: 'change',
      reservationId: 'at-node',
      lines: [{ lineIndex: 0, quantity: 5 }],
    });
    await reservations.consumeReservation({
      requestId: 'consume',
      reservationId: 'in-group',
      orderReference: 'ORDER-1',
      lines: [],
      demandType: pb.DemandType.DEMAND_TYPE_ALLOCATED,
    });
    await reservations.releaseReservation({ requestId: 'release', reservationId: 'at-node' });
    await reservations.reserve({
      reservationId: 'expiring',
      lines: [atNode('EV', 'DC1', 1)],
      expireTime: new Date(Date.now() + 300),
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await t.service.sweeper.sweepOnce()).toBe(1);

    const rows = await t.database.db.knex('outbox').count({ n: '*' }).first();
    const events = await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 1000 });
    expect(events).toHaveLength(Number(rows?.n));
    expect(events.map(summary)).toEqual([
      'node_created: DC1',
      'node_created: DC2',
      'distribution_group_created: EAST DC2,DC1',
      'safety_stock_set: EV@DC1 2',
      'safety_stock_set: EV@ 1',
      'safety_stock_deleted: EV@',
      'supply_changed: EV@DC1 TRANSACTION_TYPE_SYNC 20 0->20',
      'supply_changed: EV@DC2 TRANSACTION_TYPE_SYNC 5 0->5',
      'position_availability_changed: EV@DC1 supply 20 demand 0 reserved 0 safety 2 available 18',
      'position_availability_changed: EV@DC2 supply 5 demand 0 reserved 0 safety 0 available 5',
      'supply_changed: EV@DC1 TRANSACTION_TYPE_ADJUST -3 20->17',
      'position_availability_changed: EV@DC1 supply 17 demand 0 reserved 0 safety 2 available 15',
      'supply_ignored: EV@DC1 TRANSACTION_TYPE_ADJUST -1 17->17',
      'demand_changed: EV@DC1 DEMAND_TYPE_OPEN_ORDER TRANSACTION_TYPE_SYNC 4 0->4',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 0 safety 2 available 11',
      'reservation_created: at-node RESERVATION_STATE_ACTIVE DC1:3',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 3 safety 2 available 8',
      'reservation_created: in-group RESERVATION_STATE_ACTIVE DC2:4',
      'position_availability_changed: EV@DC2 supply 5 demand 0 reserved 4 safety 0 available 1',
      'reservation_extended: at-node RESERVATION_STATE_ACTIVE DC1:3',
      'reservation_quantities_changed: at-node RESERVATION_STATE_ACTIVE DC1:5',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 5 safety 2 available 6',
      'demand_changed: EV@DC2 DEMAND_TYPE_ALLOCATED TRANSACTION_TYPE_ADJUST 4 0->4',
      'position_availability_changed: EV@DC2 supply 5 demand 4 reserved 0 safety 0 available 1',
      'reservation_consumed: in-group RESERVATION_STATE_CONSUMED ',
      'position_availability_changed: EV@DC2 supply 5 demand 4 reserved 0 safety 0 available 1',
      'reservation_released: at-node RESERVATION_STATE_RELEASED ',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 0 safety 2 available 11',
      'reservation_created: expiring RESERVATION_STATE_ACTIVE DC1:1',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 1 safety 2 available 10',
      'reservation_expired: expiring RESERVATION_STATE_EXPIRED ',
      'position_availability_changed: EV@DC1 supply 17 demand 4 reserved 0 safety 2 available 11',
    ]);

    // The envelope: stream order, unique ids, when, and who.
    const sequences = events.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const e of events) {
      expect(e.occurTime?.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(e.commitTime).toBeUndefined();
      expect(e.actionId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const byType = (type: string) => events.filter((e) => e.type === type);
    const sync = events.filter((e) => e.requestId === 'sync');
    expect(sync.map((e) => e.type)).toEqual([
      'supply_changed',
      'supply_changed',
      'position_availability_changed',
      'position_availability_changed',
    ]);
    expect(new Set(sync.map((e) => e.actionId)).size).toBe(1);
    expect(byType('supply_changed')[2]?.supplyChanged).toMatchObject({
      reason: 'DAMAGED',
      sourceTime: expect.any(Date),
      outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED,
    });
    expect(byType('supply_ignored')[0]).toMatchObject({
      requestId: 'adjust-late',
      supplyIgnored: { reason: 'SOLD', outcome: pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED },
    });
    expect(byType('reservation_extended')[0]?.reservationExtended?.previousExpireTime?.getTime()).toBeLessThan(
      byType('reservation_extended')[0]!.reservationExtended!.reservation!.expireTime!.getTime(),
    );
    // Consuming turns the held units into demand under the consume's action.
    const consume = events.filter((e) => e.requestId === 'consume');
    expect(consume.map((e) => e.type)).toEqual([
      'demand_changed',
      'position_availability_changed',
      'reservation_consumed',
      'position_availability_changed',
    ]);
    expect(new Set(consume.map((e) => e.actionId)).size).toBe(1);
    expect(consume[0]?.demandChanged?.key).toMatchObject({ orderReference: 'ORDER-1' });
    expect(consume[2]?.reservationConsumed?.reservation?.lines[0]).toMatchObject({ consumedQuantity: 4 });
    // Only the sweeper works on its own.
    const system = events.filter((e) => e.auditType !== pb.AuditType.AUDIT_TYPE_USER);
    expect(system.map((e) => [e.type, e.auditType, e.actor, e.requestId])).toEqual([
      ['reservation_expired', pb.AuditType.AUDIT_TYPE_SYSTEM, 'reservation-expiry-sweeper', ''],
      ['position_availability_changed', pb.AuditType.AUDIT_TYPE_SYSTEM, 'reservation-expiry-sweeper', ''],
    ]);
    expect(
      events
        .filter((e) => e.auditType === pb.AuditType.AUDIT_TYPE_USER)
        .every((e) => e.actor === '' && e.requestId !== ''),
    ).toBe(true);
  });

  it('announces a batch of reservations taken together under one related action id', async () => {
    const { supply, reservations } = t.clients;
    await supply.syncSupply({
      requestId: 'batch-sync',
      lines: [{ key: { ...onhandAt('DC2'), item: item('BATCH') }, quantity: 100, sourceTime: new Date() }],
    });
    const before = await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 1000 });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reservations.reserve({
          reservationId: `batch-${i}`,
          lines: [atNode('BATCH', 'DC2', 1)],
          expireTime: inHours(1),
        }),
      ),
    );
    const events = await readOutbox({ db: t.database.db.knex, afterSequence: before.at(-1)!.sequence, limit: 1000 });
    const created = events.filter((e) => e.type === 'reservation_created');
    expect(created.map((e) => e.requestId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `batch-${i}`).sort());
    const positions = events.filter((e) => e.type === 'position_availability_changed');
    // The last announcement of the position is its state after every reservation.
    expect(positions.at(-1)?.positionAvailabilityChanged).toMatchObject({
      nodeId: 'DC2',
      supplyQuantity: 100,
      reservedQuantity: 20,
      available: 80,
    });
    for (const p of positions) {
      const batch = created.filter((c) => c.relatedActionId !== '' && c.relatedActionId === p.relatedActionId);
      // A batch of one is its own action; a batch of several shares the batch's id.
      if (p.relatedActionId === '') expect(created.filter((c) => c.actionId === p.actionId)).toHaveLength(1);
      else expect(batch.length).toBeGreaterThan(1);
    }
  });

  it('refuses to read a row that does not hold a ChangeEvent', async () => {
    const db = t.database.db.knex;
    // A row of the earlier JSON format, as bytes and (as SQLite keeps it) as text.
    for (const payload of [Buffer.from('{"quantity":5}'), '{"quantity":5}']) {
      await db('outbox').insert({ event_type: 'supply.changed', action_id: 'legacy', payload, created_ms: 0 });
      await expect(readOutbox({ db, afterSequence: 0, limit: 1000 })).rejects.toThrow(/does not hold a ChangeEvent/);
      await db('outbox').where({ action_id: 'legacy' }).delete();
    }
  });
});
