import * as pb from '@inventory/contracts';
import { describeEachDatabase } from '@inventory/store/testing';
import { startTestService, type TestService } from './testing/harness';
import { available, createNodes, item } from './testing/stock';

const APPLIED = pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

// An adjust that takes a quantity below zero is kept as sent and reported (the proto of AdjustSupply and
// AdjustDemand says why): clamping it would record a different delta than the source sent, and a sync that
// arrives late re-applies the deltas dated after it.
describeEachDatabase('an adjust below zero', (dialect) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(dialect);
    await createNodes(t.clients, ['DC1']);
  });
  afterAll(async () => t.stop());

  const supplyKey = (itemId: string): pb.SupplyKey => ({
    item: item(itemId),
    nodeId: 'DC1',
    segment: undefined,
    supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
    etaTime: undefined,
  });
  const demandKey = (itemId: string): pb.DemandKey => ({
    item: item(itemId),
    nodeId: 'DC1',
    segment: undefined,
    demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
    orderReference: 'ORDER-1',
  });

  it('keeps supply below zero, reports it, shows it as shortage, and a late sync puts it right', async () => {
    await t.clients.supply.syncSupply({
      requestId: 'neg-s-1',
      lines: [{ key: supplyKey('NEG'), quantity: 10, sourceTime: minutesAgo(10) }],
    });
    const { results } = await t.clients.supply.adjustSupply({
      requestId: 'neg-s-2',
      lines: [{ key: supplyKey('NEG'), quantityDelta: -100, sourceTime: minutesAgo(5), reason: 'SOLD' }],
    });
    expect(results[0]).toMatchObject({ outcome: APPLIED, quantityBefore: 10, quantityAfter: -90 });
    expect(await available(t.clients, 'NEG', 'DC1')).toMatchObject({ available: 0, shortage: 90, onhandQuantity: -90 });

    // The source's own count, taken before the sale, arrives late: 120 on the shelf, less the 100 sold.
    await t.clients.supply.syncSupply({
      requestId: 'neg-s-3',
      lines: [{ key: supplyKey('NEG'), quantity: 120, sourceTime: minutesAgo(7) }],
    });
    expect(await available(t.clients, 'NEG', 'DC1')).toMatchObject({ available: 20, shortage: 0, onhandQuantity: 20 });
  });

  it('keeps demand below zero and reports it', async () => {
    await t.clients.demand.syncDemand({
      requestId: 'neg-d-1',
      lines: [{ key: demandKey('NEG-D'), quantity: 10, sourceTime: minutesAgo(10) }],
    });
    const { results } = await t.clients.demand.adjustDemand({
      requestId: 'neg-d-2',
      lines: [{ key: demandKey('NEG-D'), quantityDelta: -100, sourceTime: minutesAgo(5), reason: 'CANCELLED' }],
    });
    expect(results[0]).toMatchObject({
      outcome: pb.DemandLineOutcome.DEMAND_LINE_OUTCOME_APPLIED,
      quantityBefore: 10,
      quantityAfter: -90,
    });
    const { demands } = await t.clients.demand.getDemand({ item: item('NEG-D'), nodeId: 'DC1', segment: undefined });
    expect(demands.map((d) => d.quantity)).toEqual([-90]);
  });
});
