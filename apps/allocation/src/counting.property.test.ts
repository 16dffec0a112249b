/**
 * One rule decides what counts toward stock. Random histories of supply, demand, safety stock and
 * reservations (with time moving across ETAs and expiries) run through the real service; after each, the
 * read path (the availability answer), the reserve path (the stock position, as kept by deltas and as
 * recounted from its rows, through the domain's `promisable`) and the domain's formula over a model of
 * the history must agree. Every Reserve on the way must succeed exactly when the domain says the units
 * are there.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import {
  availabilityByDate,
  itemKey,
  nodeAvailability,
  positionKeyId,
  promisable,
  UNSEGMENTED,
  type NodeAvailabilityInputs,
} from '@inventory/domain';
import { errorDetails } from '@inventory/grpc-server';
import { createLogger } from '@inventory/runtime';
import { inTransaction, positionsDueForRecount, readPositions, recountPositions } from '@inventory/store';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '@inventory/store/testing';
import fc from 'fast-check';
import { startAllocationService, type RunningService } from './allocation-service';
import { loadConfig } from './config';
import { connectClients, type Clients } from './testing/harness';
import {
  HistoryModel,
  LAST_TICK,
  NODE_ID,
  ORDER_REFERENCES,
  historyArbitrary,
  TICK_MS,
  type Step,
} from './testing/counting-history';

const HISTORIES = 200;

describeEachDatabase('what counts toward stock, on random histories', (dialect) => {
  let database: TestDatabase;
  let service: RunningService;
  let connection: { clients: Clients; close(): void };
  let nowMs = Date.now();
  let histories = 0;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const config = loadConfig({
      INVENTORY_DATABASE_URL: database.url,
      INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
      INVENTORY_EXPIRY_SWEEP_INTERVAL_MS: '0',
    });
    service = await startAllocationService(config, createLogger('counting-test', 'silent'), () => nowMs);
    connection = connectClients(`127.0.0.1:${service.port}`);
    await connection.clients.nodes.createNode({
      requestId: 'node',
      node: { nodeId: NODE_ID, nodeType: pb.NodeType.NODE_TYPE_DC, description: '', createTime: undefined },
    });
  });
  afterAll(async () => {
    connection.close();
    await service.stop();
    await database.drop();
  });

  it(`gives the same figures on the read path, the positions and the domain (${HISTORIES} histories)`, async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary, async (steps) => {
        // A fresh item per history; the clock starts at the real time so that source times look current.
        nowMs = Date.now();
        const model = new HistoryModel(`ITEM-${++histories}`, nowMs);
        for (const [i, step] of steps.entries()) await apply(connection.clients, model, step, `${model.itemId}-${i}`);
        await expectSameFigures(model);
      }),
      { numRuns: HISTORIES },
    );
  }, 600_000);

  async function apply(clients: Clients, model: HistoryModel, step: Step, requestId: string): Promise<void> {
    const item = { itemId: model.itemId, unitOfMeasure: '', productClass: '' };
    const sourceTime = new Date(nowMs);
    const tickTime = (ticks: number) =>
      model.startMs + (Math.floor((nowMs - model.startMs) / TICK_MS) + ticks) * TICK_MS;
    switch (step.kind) {
      case 'syncSupply':
      case 'adjustSupply': {
        const etaMs = model.etaOf(step.supplyType, step.etaTick);
        const key = {
          item,
          nodeId: NODE_ID,
          segment: undefined,
          supplyType: pb.SupplyType[`SUPPLY_TYPE_${step.supplyType}`],
          etaTime: etaMs === null ? undefined : new Date(etaMs),
        };
        if (step.kind === 'syncSupply') {
          await clients.supply.syncSupply({ requestId, lines: [{ key, quantity: step.quantity, sourceTime }] });
          model.syncSupply(step.supplyType, etaMs, step.quantity, nowMs);
        } else {
          await clients.supply.adjustSupply({
            requestId,
            lines: [{ key, quantityDelta: step.delta, sourceTime, reason: 'test' }],
          });
          model.adjustSupply(step.supplyType, etaMs, step.delta, nowMs);
        }
        return;
      }
      case 'syncDemand':
      case 'adjustDemand': {
        const orderReference = ORDER_REFERENCES[step.order]!;
        const key = {
          item,
          nodeId: NODE_ID,
          segment: undefined,
          demandType: pb.DemandType[`DEMAND_TYPE_${step.demandType}`],
          orderReference,
        };
        if (step.kind === 'syncDemand') {
          await clients.demand.syncDemand({ requestId, lines: [{ key, quantity: step.quantity, sourceTime }] });
          model.syncDemand(step.demandType, orderReference, step.quantity, nowMs);
        } else {
          await clients.demand.adjustDemand({
            requestId,
            lines: [{ key, quantityDelta: step.delta, sourceTime, reason: 'test' }],
          });
          model.adjustDemand(step.demandType, orderReference, step.delta, nowMs);
        }
        return;
      }
      case 'setSafetyStock': {
        const nodeId = step.atNode ? NODE_ID : '';
        if (step.quantity !== null) {
          await clients.safetyStock.setSafetyStock({
            requestId,
            safetyStock: { item, nodeId, quantity: step.quantity, level: 0 },
          });
          model.safetyStock.set(nodeId, step.quantity);
        } else if (model.safetyStock.has(nodeId)) {
          await clients.safetyStock.deleteSafetyStock({ requestId, item, nodeId });
          model.safetyStock.delete(nodeId);
        }
        return;
      }
      case 'reserve': {
        const reservationId = `${model.itemId}-R${model.reservations.length}`;
        const expireMs = tickTime(step.ttlTicks);
        const fits = balanceNow(model) >= step.quantity;
        const line = {
          item,
          nodeId: NODE_ID,
          distributionGroupId: undefined,
          segment: undefined,
          quantity: step.quantity,
          allowSplit: false,
        };
        const outcome = await outcomeOf(
          clients.reservations.reserve({ reservationId, lines: [line], expireTime: new Date(expireMs) }),
        );
        expect({ step, outcome }).toEqual({ step, outcome: fits ? 'OK' : 'INSUFFICIENT_AVAILABILITY' });
        if (fits)
          model.reservations.push({ reservationId, state: 'ACTIVE', held: step.quantity, holdState: 'HELD', expireMs });
        return;
      }
      case 'extend': {
        const r = model.pick(step.which);
        if (!r) return;
        const expireMs = tickTime(step.ttlTicks);
        const outcome = await outcomeOf(
          clients.reservations.extendReservation({
            requestId,
            reservationId: r.reservationId,
            expireTime: new Date(expireMs),
          }),
        );
        expect({ step, outcome }).toEqual({ step, outcome: isActive(r) ? 'OK' : 'RESERVATION_NOT_ACTIVE' });
        if (outcome === 'OK') r.expireMs = expireMs;
        return;
      }
      case 'changeQuantity': {
        const r = model.pick(step.which);
        if (!r) return;
        const more = step.quantity - r.held;
        // Keeping or lowering a quantity takes nothing, even where the position is over-committed.
        const fits = more <= 0 || balanceNow(model) >= more;
        const outcome = await outcomeOf(
          clients.reservations.changeReservationQuantities({
            requestId,
            reservationId: r.reservationId,
            lines: [{ lineIndex: 0, quantity: step.quantity }],
          }),
        );
        if (!isActive(r)) expect({ step, outcome }).toEqual({ step, outcome: 'RESERVATION_NOT_ACTIVE' });
        else expect({ step, outcome }).toEqual({ step, outcome: fits ? 'OK' : 'INSUFFICIENT_AVAILABILITY' });
        if (outcome === 'OK') r.held = step.quantity;
        return;
      }
      case 'release': {
        const r = model.pick(step.which);
        if (!r) return;
        const outcome = await outcomeOf(
          clients.reservations.releaseReservation({ requestId, reservationId: r.reservationId }),
        );
        expect({ step, outcome }).toEqual({ step, outcome: isActive(r) ? 'OK' : 'RESERVATION_NOT_ACTIVE' });
        if (outcome === 'OK') Object.assign(r, { state: 'RELEASED', holdState: 'RELEASED' });
        return;
      }
      case 'consume': {
        const r = model.pick(step.which);
        if (!r) return;
        const take = step.quantity === 0 ? r.held : Math.min(step.quantity, r.held);
        const orderReference = ORDER_REFERENCES[ORDER_REFERENCES.length - 1]!;
        const lines = step.quantity === 0 || take === 0 ? [] : [{ lineIndex: 0, quantity: take }];
        const demandType = pb.DemandType[`DEMAND_TYPE_${step.demandType}`];
        const outcome = await outcomeOf(
          clients.reservations.consumeReservation({
            requestId,
            reservationId: r.reservationId,
            orderReference,
            lines,
            demandType,
          }),
        );
        expect({ step, outcome }).toEqual({ step, outcome: isActive(r) ? 'OK' : 'RESERVATION_NOT_ACTIVE' });
        if (outcome !== 'OK') return;
        r.held -= take;
        if (r.held === 0) Object.assign(r, { state: 'CONSUMED', holdState: 'CONSUMED' });
        model.adjustDemand(step.demandType, orderReference, take, nowMs);
        return;
      }
      case 'sweep': {
        await service.sweeper.sweepOnce();
        for (const r of model.reservations)
          if (r.state === 'ACTIVE' && r.expireMs <= nowMs) Object.assign(r, { state: 'EXPIRED', holdState: 'EXPIRED' });
        return;
      }
      case 'advance': {
        const target =
          step.toTick === null
            ? nowMs + step.byMs
            : model.startMs + Math.min(step.toTick, LAST_TICK) * TICK_MS + step.byMs;
        nowMs = Math.max(nowMs, target);
        return;
      }
    }
  }

  const isActive = (r: { state: string; expireMs: number }) => r.state === 'ACTIVE' && nowMs < r.expireMs;

  /** What the domain says can still be promised now (negative when over-committed). */
  function balanceNow(model: HistoryModel): number {
    const figures = nodeAvailability(model.inputs(nowMs), nowMs);
    return figures.available - figures.shortage;
  }

  async function expectSameFigures(model: HistoryModel): Promise<void> {
    const item = { itemId: model.itemId, unitOfMeasure: '', productClass: '' };
    const inputs: NodeAvailabilityInputs = model.inputs(nowMs);
    const horizon = nowMs + 6 * TICK_MS;
    const figuresOf = (n: {
      available: number;
      shortage: number;
      onhand: number;
      futureSupply: number;
      demand: number;
      reserved: number;
      safetyStock: { quantity: number };
    }) => ({
      available: n.available,
      shortage: n.shortage,
      onhand: n.onhand,
      futureSupply: n.futureSupply,
      demand: n.demand,
      reserved: n.reserved,
      safetyStock: n.safetyStock.quantity,
    });
    const expectedNow = figuresOf(nodeAvailability(inputs, nowMs));
    const expectedByDate = availabilityByDate([inputs], nowMs, horizon);

    // (1) The read path: now, and by date (as of every ETA up to a horizon).
    const n = (
      await connection.clients.availability.getNodeAvailability({
        item,
        nodeId: NODE_ID,
        segment: undefined,
        asOfTime: undefined,
      })
    ).availability!;
    expect({
      available: n.available,
      shortage: n.shortage,
      onhand: n.onhandQuantity,
      futureSupply: n.futureSupplyQuantity,
      demand: n.demandQuantity,
      reserved: n.reservedQuantity,
      safetyStock: n.safetyStockQuantity,
    }).toEqual(expectedNow);
    const byDate = await connection.clients.availability.getAvailabilityByDate({
      item,
      nodeId: NODE_ID,
      distributionGroupId: undefined,
      segment: undefined,
      horizonTime: new Date(horizon),
    });
    expect({
      currentAvailable: byDate.currentAvailable,
      currentShortage: byDate.currentShortage,
      buckets: byDate.buckets.map((b) => ({
        bucketMs: b.bucketTime!.getTime(),
        incoming: b.incomingQuantity,
        available: b.available,
        shortage: b.shortage,
      })),
    }).toEqual({
      currentAvailable: expectedByDate.current.available,
      currentShortage: expectedByDate.current.shortage,
      buckets: expectedByDate.buckets.map(({ bucketMs, incoming, available, shortage }) => ({
        bucketMs,
        incoming,
        available,
        shortage,
      })),
    });

    // (2) The position: kept by deltas, it must already agree unless it is due for a recount (supply
    // arrived, holds expired); recounted from its rows, it must agree in any case.
    const key = { item: itemKey(model.itemId), nodeId: NODE_ID, segment: UNSEGMENTED };
    const db = database.db.knex;
    const positionFigures = async () => {
      const p = (await readPositions({ db, keys: [key] })).get(positionKeyId(key));
      return (
        p && {
          positionId: p.positionId,
          supply: p.supply,
          demand: p.demand,
          reserved: p.reserved,
          promisable: promisable(key, p),
        }
      );
    };
    const expected = {
      supply: expectedNow.onhand + expectedNow.futureSupply,
      demand: expectedNow.demand,
      reserved: expectedNow.reserved,
      promisable: expectedNow.available - expectedNow.shortage,
    };
    const kept = await positionFigures();
    if (!kept) {
      expect(model.hasRows()).toBe(false);
      return;
    }
    const due = await positionsDueForRecount({ db, positionIds: [kept.positionId], nowMs });
    if (due.length === 0) expect({ kept }).toEqual({ kept: { positionId: kept.positionId, ...expected } });
    await inTransaction(database.db, (trx) => recountPositions({ trx, positionIds: [kept.positionId], nowMs }));
    expect({ recounted: await positionFigures() }).toEqual({ recounted: { positionId: kept.positionId, ...expected } });
  }
});

/** 'OK', or the reason the service refused. */
async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    const e = err as ServiceError;
    if (e.code === undefined || e.code === status.INTERNAL || e.code === status.UNAVAILABLE) throw err;
    return errorDetails(e).errorInfo?.reason ?? `${status[e.code]}: ${e.details}`;
  }
}
