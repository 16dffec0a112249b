/**
 * "A dry run followed by a rebalance with nothing changed in between does exactly what the dry run said"
 * (RebalanceService.Rebalance), on random plans and stock, through the gRPC API: a random rule (fixed,
 * profitability-ranked or demand-weighted, over a random subset of the segments and the pool, with random
 * shares and minimums), random ONHAND and INTRANSIT supply (ETAs past and future) in every segment and the
 * pool, and random commitments (counted demand, and reservations, some borrowing from the pool). The
 * rebalance answers the dry run's item-nodes exactly, leaves each participant holding its `after` of each
 * type, touches no segment the rule does not name, and keeps the units of each supply type and ETA.
 */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { errorDetails } from '@inventory/grpc-server';
import { positionsDisagreeingWithRows } from '@inventory/store/testing';
import fc from 'fast-check';
import { promisify, startTestService, type Promisified, type TestService } from './testing/harness';
import { createNodes, defineSegments, item } from './testing/stock';

const RUNS = 25;
const NODE = 'DC1';
const TYPE = 'PROP';
const POOL: pb.SegmentKey = { segmentType: '', segment: '' };
const A: pb.SegmentKey = { segmentType: TYPE, segment: 'A' };
const B: pb.SegmentKey = { segmentType: TYPE, segment: 'B' };
const C: pb.SegmentKey = { segmentType: TYPE, segment: 'C' };
const ALL = [A, B, C, POOL];
const nameOf = (segment: pb.SegmentKey | undefined) => segment?.segment || 'POOL';
const DAY_MS = 86_400_000;

type StrategyKind = 'fixed' | 'profitabilityRanked' | 'demandWeighted';

/** One random case: the rule's strategy and participants, and each segment's stock and commitments. */
interface Scenario {
  readonly kind: StrategyKind;
  readonly shares: ReadonlyArray<{ segment: pb.SegmentKey; weight: number; minimum?: number; margin: number }>;
  readonly stock: ReadonlyArray<{
    segment: pb.SegmentKey;
    onhand: number;
    /** INTRANSIT quantities by ETA, in days from now (negative: arrived, counting now). */
    intransit: ReadonlyArray<{ etaDays: number; quantity: number }>;
    demand: number;
    reservations: readonly number[];
  }>;
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  kind: fc.constantFrom<StrategyKind>('fixed', 'profitabilityRanked', 'demandWeighted'),
  shares: fc.shuffledSubarray(ALL, { minLength: 1 }).chain((segments) =>
    fc.tuple(
      ...segments.map((segment) =>
        fc.record(
          {
            segment: fc.constant(segment),
            weight: fc.nat(10),
            minimum: fc.nat(30),
            margin: fc.integer({ min: -3, max: 3 }),
          },
          { requiredKeys: ['segment', 'weight', 'margin'] },
        ),
      ),
    ),
  ),
  stock: fc.tuple(
    ...ALL.map((segment) =>
      fc.record({
        segment: fc.constant(segment),
        onhand: fc.nat(40),
        intransit: fc.uniqueArray(
          fc.record({ etaDays: fc.constantFrom(-1, 1, 2, 3), quantity: fc.integer({ min: 1, max: 30 }) }),
          { maxLength: 3, selector: (l) => l.etaDays },
        ),
        demand: fc.nat(12),
        reservations: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
      }),
    ),
  ),
});

/** Weights as basis points summing to 10000 (the last share takes the rounding). */
function basisPointsOf(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map((_, i) => (i === weights.length - 1 ? 10000 : 0));
  const points = weights.map((w) => Math.floor((w * 10000) / total));
  points[points.length - 1]! += 10000 - points.reduce((a, b) => a + b, 0);
  return points;
}

function ruleOf(itemId: string, scenario: Scenario): pb.AllocationRule {
  const points = basisPointsOf(scenario.shares.map((s) => s.weight));
  return {
    ruleId: `rule-${itemId}`,
    rank: 1,
    conditions: { itemIds: [itemId], nodeIds: [], productClass: undefined },
    strategy: {
      [scenario.kind]: {},
      window: scenario.kind === 'demandWeighted' ? { seconds: 3600, nanos: 0 } : undefined,
      segments: scenario.shares.map((s, i) => ({
        segment: s.segment,
        basisPoints: points[i]!,
        minimum: s.minimum,
        margin: scenario.kind === 'profitabilityRanked' ? s.margin : undefined,
      })),
    },
  };
}

/** Supply quantities keyed "segment type eta", as GetSupply reads them. */
type StockByKey = Map<string, number>;
const stockKey = (segment: string, supplyType: pb.SupplyType, etaMs: number | undefined) =>
  `${segment} ${pb.SupplyType[supplyType]} ${etaMs ?? '-'}`;

describe('a dry run, then a rebalance with nothing changed in between, on random plans and stock [sqlite]', () => {
  let t: TestService;
  let rebalance: Promisified<pb.RebalanceServiceClient>;
  let plans: Promisified<pb.AllocationPlanServiceClient>;
  const closers: Array<{ close(): void }> = [];
  let cases = 0;

  beforeAll(async () => {
    t = await startTestService('sqlite', { INVENTORY_REBALANCE_INTERVAL_MS: '0' });
    const rebalanceClient = new pb.RebalanceServiceClient(t.address, credentials.createInsecure());
    const planClient = new pb.AllocationPlanServiceClient(t.address, credentials.createInsecure());
    const rulesClient = new pb.ConsumptionRuleServiceClient(t.address, credentials.createInsecure());
    closers.push(rebalanceClient, planClient, rulesClient);
    rebalance = promisify(rebalanceClient);
    plans = promisify(planClient);
    await createNodes(t.clients, [NODE]);
    await defineSegments(t.address, [A, B, C]);
    // A may borrow from the pool, so that some reservations leave loans for the rebalance to repay.
    await promisify(rulesClient).setConsumptionRules({
      requestId: 'rules',
      borrowingEnabled: true,
      segments: [{ segment: A, mayBorrow: true }],
    });
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    await t.stop();
  });

  it(`does exactly what the dry run said (${RUNS} random cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const itemId = `PROP-${++cases}`;
        await setUp(itemId, scenario);
        const before = await stockOf(itemId);
        const scope = { segmentType: TYPE, itemIds: [itemId], nodeIds: [NODE], actor: 'property', pageSize: 0 };

        const simulated = await rebalance.rebalance({ ...scope, requestId: '', dryRun: true, pageToken: '' });
        expect(await stockOf(itemId)).toEqual(before);
        const applied = await rebalance.rebalance({ ...scope, requestId: itemId, dryRun: false, pageToken: '' });
        expect(applied.run?.state).toBe(pb.RebalanceRunState.REBALANCE_RUN_STATE_SUCCEEDED);
        expect(applied.itemNodes).toEqual(simulated.itemNodes);

        // The dry run read the stock as it was, and the rebalance left each participant its `after`.
        expect(simulated.itemNodes).toHaveLength(1);
        const [allocation] = simulated.itemNodes;
        expect(allocation!.ruleId).toBe(`rule-${itemId}`);
        const after = await stockOf(itemId);
        const participants = new Set<string>();
        for (const type of allocation!.supplyTypes)
          for (const s of type.segments) {
            participants.add(nameOf(s.segment));
            expect([nameOf(s.segment), pb.SupplyType[type.supplyType], s.before, s.after]).toEqual([
              nameOf(s.segment),
              pb.SupplyType[type.supplyType],
              totalOf(before, nameOf(s.segment), type.supplyType),
              totalOf(after, nameOf(s.segment), type.supplyType),
            ]);
          }
        // Segments the rule does not name keep every unit, and each supply type and ETA keeps its units.
        for (const segment of ALL.map(nameOf).filter((s) => !participants.has(s)))
          expect(rowsOf(after, segment)).toEqual(rowsOf(before, segment));
        expect(unitsByTypeAndEta(after)).toEqual(unitsByTypeAndEta(before));
        expect(applied.run?.unitsMoved).toBe(allocation!.moves.reduce((sum, m) => sum + m.quantity, 0));
      }),
      { numRuns: RUNS },
    );
    expect(await positionsDisagreeingWithRows(t.database.db.knex)).toEqual([]);
  }, 120_000);

  /** The case's plan (a new version naming only this item), its supply, its demand and its reservations. */
  async function setUp(itemId: string, scenario: Scenario): Promise<void> {
    await plans.setAllocationPlan({
      requestId: `plan-${itemId}`,
      plan: { segmentType: TYPE, version: 0, rules: [ruleOf(itemId, scenario)], enabled: true, requestId: '' },
    });
    const nowMs = Date.now();
    const supplyKey = (segment: pb.SegmentKey, supplyType: pb.SupplyType, etaTime?: Date): pb.SupplyKey => ({
      item: item(itemId),
      nodeId: NODE,
      segment,
      supplyType,
      etaTime,
    });
    await t.clients.supply.syncSupply({
      requestId: `supply-${itemId}`,
      lines: scenario.stock.flatMap((s) => [
        { key: supplyKey(s.segment, pb.SupplyType.SUPPLY_TYPE_ONHAND), quantity: s.onhand, sourceTime: new Date() },
        ...s.intransit.map((l) => ({
          key: supplyKey(s.segment, pb.SupplyType.SUPPLY_TYPE_INTRANSIT, new Date(nowMs + l.etaDays * DAY_MS)),
          quantity: l.quantity,
          sourceTime: new Date(),
        })),
      ]),
    });
    const demand = scenario.stock.filter((s) => s.demand > 0);
    if (demand.length > 0)
      await t.clients.demand.syncDemand({
        requestId: `demand-${itemId}`,
        lines: demand.map((s) => ({
          key: {
            item: item(itemId),
            nodeId: NODE,
            segment: s.segment,
            demandType: pb.DemandType.DEMAND_TYPE_OPEN_ORDER,
            orderReference: '',
          },
          quantity: s.demand,
          sourceTime: new Date(),
        })),
      });
    for (const s of scenario.stock)
      for (const [i, quantity] of s.reservations.entries()) {
        try {
          await t.clients.reservations.reserve({
            reservationId: `${itemId}-${nameOf(s.segment)}-${i}`,
            lines: [
              {
                item: item(itemId),
                nodeId: NODE,
                distributionGroupId: undefined,
                segment: s.segment,
                quantity,
                allowSplit: false,
              },
            ],
            expireTime: new Date(Date.now() + 3_600_000),
          });
        } catch (err) {
          // Asking for more than there is is part of the case; anything else is not.
          expect(errorDetails(err as ServiceError).errorInfo?.reason).toBe('INSUFFICIENT_AVAILABILITY');
        }
      }
  }

  /** Every supply row of the item at the node, in every segment and the pool. */
  async function stockOf(itemId: string): Promise<StockByKey> {
    const stock: StockByKey = new Map();
    for (const segment of ALL) {
      const { supplies } = await t.clients.supply.getSupply({ item: item(itemId), nodeId: NODE, segment });
      for (const s of supplies)
        stock.set(stockKey(nameOf(segment), s.key!.supplyType, s.key!.etaTime?.getTime()), s.quantity);
    }
    return stock;
  }
});

/** A segment's units of a supply type, every ETA together. */
function totalOf(stock: StockByKey, segment: string, supplyType: pb.SupplyType): number {
  const prefix = `${segment} ${pb.SupplyType[supplyType]} `;
  return [...stock].filter(([key]) => key.startsWith(prefix)).reduce((sum, [, quantity]) => sum + quantity, 0);
}

/** A segment's rows with their quantities. */
function rowsOf(stock: StockByKey, segment: string): Record<string, number> {
  return Object.fromEntries([...stock].filter(([key]) => key.startsWith(`${segment} `)));
}

/** Units per supply type and ETA, over every segment and the pool. */
function unitsByTypeAndEta(stock: StockByKey): Record<string, number> {
  const units: Record<string, number> = {};
  for (const [key, quantity] of stock) {
    const typeAndEta = key.slice(key.indexOf(' ') + 1);
    units[typeAndEta] = (units[typeAndEta] ?? 0) + quantity;
  }
  return units;
}
