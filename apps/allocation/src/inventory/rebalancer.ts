import type { Knex } from 'knex';
import {
  allocateItemNode,
  itemNodeKeyId,
  loanOf,
  mayBorrowNow,
  ownOf,
  positionKeyId,
  ruleFor,
  rowDeltasOf,
  type AllocationPlan,
  type AllocationRecord,
  type ItemNode,
  type ItemNodeAllocation,
  type ItemNodeSegmentStock,
  type SupplyKey,
  type SupplyPurpose,
  type SupplyType,
} from '@inventory/domain';
import {
  readConsumptionRules,
  readDemandCreated,
  readRebalanceStock,
  type RebalancePosition,
  type RebalanceStock,
} from '@inventory/store';
import type { ActionContext } from '../events/change-events';
import { moveLine, type PendingLine, type QuantityLedger } from './quantity-ledger';

/** What one page of a rebalance did: each item-node's allocation, and the moves it made. */
export interface RebalancedPage {
  readonly allocations: ItemNodeAllocation[];
  readonly itemNodesChanged: number;
  readonly moves: number;
  readonly unitsMoved: number;
}

/**
 * Rebalances item-nodes under a plan: reads their stock (locked when applying), lets the domain's engine
 * decide each item-node, and applies the moves as supply lines through the supply ledger, so that they are
 * recorded, settle loans and announce availability like any supply change. A simulation reads the same stock
 * unlocked and applies nothing, so with nothing changed in between it shows exactly what applying does.
 */
export class Rebalancer {
  constructor(private readonly supply: QuantityLedger<SupplyKey>) {}

  /** What rebalancing `itemNodes` would do at `nowMs`; reads without locks, changes nothing. */
  async simulate(db: Knex, nowMs: number, plan: AllocationPlan, itemNodes: readonly ItemNode[]) {
    return (await this.allocate(db, nowMs, plan, itemNodes, false)).allocations;
  }

  /**
   * Rebalances `itemNodes` in the caller's transaction: every move is an adjust line of `purpose` under
   * `action`, all of them applied together.
   */
  async apply(
    trx: Knex.Transaction,
    nowMs: number,
    plan: AllocationPlan,
    itemNodes: readonly ItemNode[],
    action: ActionContext,
    purpose: SupplyPurpose,
  ): Promise<RebalancedPage> {
    const { allocations, stock } = await this.allocate(trx, nowMs, plan, itemNodes, true);
    const lines: Array<PendingLine<SupplyKey>> = [];
    let itemNodesChanged = 0;
    let unitsMoved = 0;
    let moves = 0;
    for (const allocation of allocations) {
      const result = allocation.result;
      if (!result || result.moves.length === 0) continue;
      itemNodesChanged++;
      moves += result.moves.length;
      const supplies = stock.get(itemNodeKeyId(allocation))!.flatMap((p) => p.supplies);
      // One record per supply type, shared by its moves' lines (the ledger writes it once).
      const records = new Map(
        result.types.map((type): [SupplyType, AllocationRecord] => [
          type.supplyType,
          {
            segmentType: plan.segmentType,
            ruleId: allocation.ruleId,
            planVersion: plan.version,
            supplyType: { supplyType: type.supplyType, pool: type.pool, segments: type.segments },
          },
        ]),
      );
      for (const { key, delta, move } of rowDeltasOf(result.moves, supplies)) {
        lines.push(moveLine(key, delta, nowMs, purpose, records.get(move.supplyType)));
        if (delta > 0) unitsMoved += delta;
      }
    }
    if (lines.length > 0) await this.supply.applyInTransaction(trx, nowMs, action, lines);
    return { allocations, itemNodesChanged, moves, unitsMoved };
  }

  private async allocate(
    db: Knex,
    nowMs: number,
    plan: AllocationPlan,
    itemNodes: readonly ItemNode[],
    lock: boolean,
  ): Promise<{ allocations: ItemNodeAllocation[]; stock: Map<string, RebalancePosition[]> }> {
    const stock = byItemNode(await readRebalanceStock({ db, itemNodes, segmentType: plan.segmentType, nowMs, lock }));
    const demand = await demandInWindows(db, plan, itemNodes, nowMs);
    const rules = await readConsumptionRules({ db });
    const allocations = itemNodes.map((itemNode) => {
      const positions = stock.get(itemNodeKeyId(itemNode)) ?? [];
      const segments = positions.map((p): ItemNodeSegmentStock => ({
        segment: p.key.segment,
        supplies: p.supplies,
        commitments: p.demand + p.activeHolds,
        loan: loanOf(
          ownOf({ supply: p.supply, demand: p.demand, reserved: p.activeHolds }),
          p.loan,
          mayBorrowNow(rules, p.key.segment),
        ),
        demandInWindow: demand.get(positionKeyId(p.key)) ?? 0,
      }));
      return allocateItemNode(plan, itemNode, segments, nowMs);
    });
    return { allocations, stock };
  }
}

/** The positions of a rebalance's stock grouped by item-node. */
function byItemNode(stock: RebalanceStock): Map<string, RebalancePosition[]> {
  const grouped = new Map<string, RebalancePosition[]>();
  for (const p of stock.values()) {
    const id = itemNodeKeyId({ item: p.key.item, nodeId: p.key.nodeId });
    const positions = grouped.get(id);
    if (positions) positions.push(p);
    else grouped.set(id, [p]);
  }
  return grouped;
}

/**
 * For the item-nodes whose rule is demand-weighted, the demand each position created in its rule's window, by
 * position key id: one read per distinct window.
 */
export async function demandInWindows(
  db: Knex,
  plan: AllocationPlan,
  itemNodes: readonly ItemNode[],
  nowMs: number,
): Promise<Map<string, number>> {
  const byWindow = new Map<number, ItemNode[]>();
  for (const n of itemNodes) {
    const rule = ruleFor(plan, { itemId: n.item.itemId, productClass: n.item.productClass, nodeId: n.nodeId }, nowMs);
    if (rule?.strategy.kind === 'DEMAND_WEIGHTED')
      byWindow.set(rule.strategy.windowMs, [...(byWindow.get(rule.strategy.windowMs) ?? []), n]);
  }
  const created = new Map<string, number>();
  for (const [windowMs, nodes] of byWindow) {
    const since = await readDemandCreated({
      db,
      itemNodes: nodes,
      segmentType: plan.segmentType,
      sinceMs: nowMs - windowMs,
    });
    for (const [id, quantity] of since) created.set(id, quantity);
  }
  return created;
}
