import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  isUnsegmented,
  itemNodeKeyId,
  positionKeyId,
  ruleFor,
  splitPhysicalTotal,
  walkedSegments,
  type AllocationPlan,
  type AllocationRule,
  type ItemNode,
  type ItemNodeAllocation,
  type PhysicalTotalSegment,
  type SupplyKey,
  type SupplyLineResult,
  type SupplySyncCommand,
} from '@inventory/domain';
import {
  appliedAdjustsAfter,
  allCurrentAllocationPlans,
  readRebalanceStock,
  SUPPLY,
  type RebalancePosition,
} from '@inventory/store';
import type { ActionContext } from '../events/change-events';
import { moveLine, syncLine, type QuantityLedger } from './quantity-ledger';
import { demandInWindows, type Rebalancer } from './rebalancer';

/** The actor of what a physical-total sync does on its own: taking from segments and allocating. */
export const SUPPLY_SYNC_ALLOCATION_ACTOR = 'supply-sync-allocation';
/** The reason the pool's sync line records when its quantity came from a physical total. */
const PHYSICAL_TOTAL_REASON = 'PHYSICAL_TOTAL';

export interface SupplySyncAnswer {
  readonly results: SupplyLineResult[];
  /** One per item-node and segment type whose plan ran, item-nodes in the order of their first total. */
  readonly allocations: ItemNodeAllocation[];
}

/** A plan whose rule applies to an item-node, and the order that rule walks the segments in. */
interface ApplyingPlan {
  readonly plan: AllocationPlan;
  readonly rule: AllocationRule;
  readonly walk: ReturnType<typeof walkedSegments>;
}

type SyncLine = SupplySyncCommand['lines'][number];

/**
 * SyncSupply: plain lines through the supply ledger as ever; physical totals (DESIGN §2 "Physical-total sync")
 * split between the pool and the segments, then allocated under the applying plans, all in the sync's one
 * transaction. The pool's line is the caller's sync; what the total takes from segments and what the
 * allocation moves are the service's own changes, with the sync as their parent.
 */
export class SupplySync {
  constructor(
    private readonly supply: QuantityLedger<SupplyKey>,
    private readonly rebalancer: Rebalancer,
  ) {}

  async sync(cmd: SupplySyncCommand): Promise<SupplySyncAnswer> {
    if (!cmd.lines.some((l) => l.physicalTotal))
      return { results: await this.supply.sync('SyncSupply', cmd), allocations: [] };
    return this.supply.mutateLines(
      'SyncSupply',
      cmd.requestId,
      cmd,
      cmd.lines.map((l) => l.key),
      (trx, nowMs, action) => this.syncTotals(trx, nowMs, action, cmd),
    );
  }

  private async syncTotals(
    trx: Knex.Transaction,
    nowMs: number,
    action: ActionContext,
    cmd: SupplySyncCommand,
  ): Promise<SupplySyncAnswer> {
    const plain = cmd.lines.filter((l) => !l.physicalTotal);
    const totals = cmd.lines.filter((l) => l.physicalTotal);
    // The request's own segment counts go first, so that a total in the same request splits against them.
    const plainResults =
      plain.length === 0
        ? []
        : await this.supply.applyInTransaction(
            trx,
            nowMs,
            action,
            plain.map((l) => syncLine(l.key, l.quantity, l.sourceMs, '')),
          );
    const itemNodes = distinctItemNodes(totals.map((l) => l.key));
    const stock = await readRebalanceStock({ db: trx, itemNodes, nowMs, lock: true });
    const applying = await applyingPlans(trx, itemNodes, stock, nowMs);
    const later = await deltasAfterTotals(trx, totals, stock);
    const splits = totals.map((line, i) =>
      splitPhysicalTotal({
        supplyType: line.key.supplyType,
        total: line.quantity + later[i]!.all,
        segments: segmentRowsAt(stock, line.key),
        walks: (applying.get(itemNodeKeyId(line.key)) ?? []).map((a) => ({
          segmentType: a.plan.segmentType,
          segments: a.walk,
        })),
      }),
    );
    const totalResults = await this.supply.applyInTransaction(
      trx,
      nowMs,
      action,
      // The pool's sync re-applies its own later deltas on top (as every sync does): leave them out here.
      totals.map((l, i) => syncLine(l.key, splits[i]!.pool - later[i]!.pool, l.sourceMs, PHYSICAL_TOTAL_REASON)),
    );
    // A stale total is ignored like any stale sync: it takes nothing from the segments and allocates nothing.
    const applied = totals.flatMap((line, i) =>
      totalResults[i]!.outcome === 'APPLIED' ? [{ line, split: splits[i]! }] : [],
    );
    const relatedActionId = randomUUID();
    const systemAction = (): ActionContext => ({
      actionId: randomUUID(),
      requestId: cmd.requestId,
      parentActionId: action.actionId,
      relatedActionId,
      systemActor: SUPPLY_SYNC_ALLOCATION_ACTOR,
    });
    const reductions = applied.flatMap(({ line, split }) =>
      split.reductions.map((r) =>
        moveLine({ ...line.key, segment: r.segment }, r.after - r.before, nowMs, 'SEGMENT_ALLOCATION'),
      ),
    );
    if (reductions.length > 0) await this.supply.applyInTransaction(trx, nowMs, systemAction(), reductions);
    const allocations: ItemNodeAllocation[] = [];
    if (!cmd.skipAllocation)
      for (const itemNode of distinctItemNodes(applied.map((a) => a.line.key)))
        for (const { plan } of applying.get(itemNodeKeyId(itemNode)) ?? []) {
          const done = await this.rebalancer.apply(trx, nowMs, plan, [itemNode], systemAction(), 'SEGMENT_ALLOCATION');
          allocations.push(...done.allocations);
        }
    return { results: inRequestOrder(cmd.lines, plainResults, totalResults), allocations };
  }
}

/**
 * For each item-node, the enabled plans (in segment type order) whose rule applies to it at `nowMs`, with the
 * order the rule walks the segments in as the stock stands (a demand-weighted rule orders them by demand).
 */
async function applyingPlans(
  trx: Knex.Transaction,
  itemNodes: readonly ItemNode[],
  stock: Map<string, RebalancePosition>,
  nowMs: number,
): Promise<Map<string, ApplyingPlan[]>> {
  const applying = new Map<string, ApplyingPlan[]>();
  for (const plan of await enabledPlans(trx)) {
    const demand = await demandInWindows(trx, plan, itemNodes, nowMs);
    for (const itemNode of itemNodes) {
      const at = { itemId: itemNode.item.itemId, productClass: itemNode.item.productClass, nodeId: itemNode.nodeId };
      const rule = ruleFor(plan, at, nowMs);
      if (!rule) continue;
      // The walk's order depends on the segments and their demand only; their supply does not enter it.
      const positions = [...stock.values()]
        .filter((p) => sameItemNode(p.key, itemNode) && p.key.segment.segmentType === plan.segmentType)
        .map((p) => ({
          segment: p.key.segment,
          supply: {},
          commitments: 0,
          loan: 0,
          demandInWindow: demand.get(positionKeyId(p.key)) ?? 0,
        }));
      const id = itemNodeKeyId(itemNode);
      applying.set(id, [...(applying.get(id) ?? []), { plan, rule, walk: walkedSegments({ rule, positions }) }]);
    }
  }
  return applying;
}

/** The current plans that are enabled, in segment type order: a disabled plan allocates nothing. */
async function enabledPlans(trx: Knex.Transaction): Promise<AllocationPlan[]> {
  return (await allCurrentAllocationPlans({ db: trx })).filter((plan) => plan.enabled);
}

/**
 * For each total, the deltas applied after its source time to the rows it counts (the pool's and every
 * segment's at its item, node, supply type and ETA), which the count could not see: source systems' adjusts
 * dated later, and the moves of rebalances since (which sum to zero). `all` brings the total forward to now;
 * `pool` is the pool row's share, which its sync re-applies by itself.
 */
async function deltasAfterTotals(
  trx: Knex.Transaction,
  totals: readonly SyncLine[],
  stock: Map<string, RebalancePosition>,
): Promise<Array<{ all: number; pool: number }>> {
  const deltas: Array<{ all: number; pool: number }> = [];
  for (const line of totals) {
    const rows = [...stock.values()]
      .filter((p) => sameItemNode(p.key, line.key))
      .flatMap((p) =>
        p.supplies.filter((s) => s.key.supplyType === line.key.supplyType && s.key.etaMs === line.key.etaMs),
      );
    const applied = await appliedAdjustsAfter(SUPPLY, { trx, ids: rows.map((r) => r.id), afterMs: line.sourceMs });
    const after = (id: number) => (applied.get(id) ?? []).reduce((sum, a) => sum + a.delta, 0);
    const pool = rows.find((r) => isUnsegmented(r.key.segment));
    deltas.push({ all: rows.reduce((sum, r) => sum + after(r.id), 0), pool: pool ? after(pool.id) : 0 });
  }
  return deltas;
}

/** Every segment's row (of any segment type) at the total's item, node, supply type and ETA. */
function segmentRowsAt(stock: Map<string, RebalancePosition>, key: SupplyKey): PhysicalTotalSegment[] {
  const rows: PhysicalTotalSegment[] = [];
  for (const p of stock.values()) {
    if (isUnsegmented(p.key.segment) || !sameItemNode(p.key, key)) continue;
    const row = p.supplies.find((s) => s.key.supplyType === key.supplyType && s.key.etaMs === key.etaMs);
    if (row) rows.push({ segment: p.key.segment, quantity: row.quantity, commitments: p.demand + p.activeHolds });
  }
  return rows;
}

function distinctItemNodes(keys: readonly SupplyKey[]): ItemNode[] {
  const byId = new Map<string, ItemNode>();
  for (const k of keys) {
    const id = itemNodeKeyId(k);
    if (!byId.has(id)) byId.set(id, { item: k.item, nodeId: k.nodeId });
  }
  return [...byId.values()];
}

const sameItemNode = (a: ItemNode, b: ItemNode) => itemNodeKeyId(a) === itemNodeKeyId(b);

/** The results of the plain lines and of the totals, put back in the request's order. */
function inRequestOrder(
  lines: readonly SyncLine[],
  plain: readonly SupplyLineResult[],
  totals: readonly SupplyLineResult[],
): SupplyLineResult[] {
  let p = 0;
  let t = 0;
  return lines.map((l) => (l.physicalTotal ? totals[t++]! : plain[p++]!));
}
