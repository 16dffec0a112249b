import type { AllocationPlan } from './allocation-plans';
import {
  rebalance,
  type RebalanceResult,
  type SegmentPosition,
  type SupplyMove,
  type SupplyTypeRebalance,
} from './allocation-engine';
import { ruleFor } from './allocation-plans';
import { isUnsegmented, type ItemKey, type SegmentKey } from './keys';
import type { SupplyKey, SupplyType } from './supply';

/** Why a supply position changed (DESIGN §2 "Audit"). */
export type SupplyPurpose =
  'SUPPLY_SYNC' | 'SUPPLY_ADJUSTMENT' | 'SEGMENT_ALLOCATION' | 'SEGMENT_REALLOCATION' | 'CYCLE_COUNT';

/** The allocation behind a move: the rule, the plan version, and the supply type's participants. */
export interface AllocationRecord {
  readonly segmentType: string;
  readonly ruleId: string;
  readonly planVersion: number;
  readonly supplyType: Omit<SupplyTypeRebalance, 'moves'>;
}

/** An item at a node: the unit a rebalance works on. */
export interface ItemNode {
  readonly item: ItemKey;
  readonly nodeId: string;
}

/** What started a rebalance run. */
export type RebalanceTrigger = 'REQUESTED' | 'SCHEDULED' | 'SYSTEM_DETECTED';

export const REBALANCE_RUN_STATES = ['RUNNING', 'SUCCEEDED', 'CANCELLED', 'FAILED'] as const;
export type RebalanceRunState = (typeof REBALANCE_RUN_STATES)[number];

/** One rebalance of a segment type over a scope of item-nodes, worked through in pages. */
export interface RebalanceRun {
  readonly runId: string;
  readonly segmentType: string;
  /** Empty: every item. */
  readonly itemIds: readonly string[];
  /** Empty: every node. */
  readonly nodeIds: readonly string[];
  readonly trigger: RebalanceTrigger;
  readonly state: RebalanceRunState;
  readonly planVersion: number;
  readonly itemNodesTotal: number;
  readonly itemNodesDone: number;
  readonly itemNodesChanged: number;
  readonly moves: number;
  readonly unitsMoved: number;
  /** The last item-node done; `null` before the first page. */
  readonly cursor: ItemNode | null;
  readonly startMs: number;
  readonly finishMs: number | null;
  readonly error: string | null;
  readonly actor: string;
  readonly requestId: string;
}

/** What a rebalance did, or would do, at one item-node. */
export interface ItemNodeAllocation extends ItemNode {
  /** Empty when no rule of the plan matches (nothing moves). */
  readonly ruleId: string;
  readonly planVersion: number;
  readonly result: RebalanceResult | null;
}

/** A participant's stock at an item-node, as the store reads it for a rebalance. */
export interface ItemNodeSegmentStock {
  readonly segment: SegmentKey;
  /** Its supply rows of every type and ETA. */
  readonly supplies: ReadonlyArray<{ readonly key: SupplyKey; readonly quantity: number }>;
  /** Counted demand + holds that take now. */
  readonly commitments: number;
  /** Its loan from the pool now; 0 for the pool. */
  readonly loan: number;
  /** Demand created in a demand-weighted rule's window; 0 when not asked for. */
  readonly demandInWindow: number;
}

/**
 * Rebalances an item-node under a plan at `atMs`: the best-ranked matching rule splits the stock of the
 * segments it names and the pool. No rule: nothing to do (`result` null).
 */
export function allocateItemNode(
  plan: AllocationPlan,
  itemNode: ItemNode,
  stock: readonly ItemNodeSegmentStock[],
  atMs: number,
): ItemNodeAllocation {
  const rule = ruleFor(
    plan,
    { itemId: itemNode.item.itemId, productClass: itemNode.item.productClass, nodeId: itemNode.nodeId },
    atMs,
  );
  if (!rule) return { ...itemNode, ruleId: '', planVersion: plan.version, result: null };
  const positions = stock.map((s): SegmentPosition => ({
    segment: s.segment,
    supply: supplyByType(s.supplies),
    commitments: s.commitments,
    loan: s.loan,
    demandInWindow: s.demandInWindow,
  }));
  const named = new Set(rule.strategy.segments.map((s) => segmentId(s.segment)));
  const participants = positions.filter((p) => isUnsegmented(p.segment) || named.has(segmentId(p.segment)));
  return {
    ...itemNode,
    ruleId: rule.ruleId,
    planVersion: plan.version,
    result: rebalance({ rule, positions: participants }),
  };
}

/** One supply row's change for a move. */
export interface RowDelta {
  readonly key: SupplyKey;
  readonly delta: number;
  readonly move: SupplyMove;
}

/**
 * The row changes that make `moves` at an item-node: for each move, the giver's rows of the type with units,
 * latest ETA first (it keeps what it can count soonest), each taken down as far as the move needs, and the
 * receiver's row of the same type and ETA raised by as much. Quantities at each ETA keep their sum.
 */
export function rowDeltasOf(
  moves: readonly SupplyMove[],
  supplies: ReadonlyArray<{ readonly key: SupplyKey; readonly quantity: number }>,
): RowDelta[] {
  const left = new Map(supplies.map((s) => [supplyRowId(s.key), { key: s.key, quantity: s.quantity }]));
  const deltas: RowDelta[] = [];
  for (const move of moves) {
    const rows = [...left.values()]
      .filter((r) => r.key.supplyType === move.supplyType && sameSegment(r.key.segment, move.from) && r.quantity > 0)
      .sort((a, b) => (b.key.etaMs ?? 0) - (a.key.etaMs ?? 0));
    let wanted = move.quantity;
    for (const row of rows) {
      if (wanted === 0) break;
      const take = Math.min(wanted, row.quantity);
      wanted -= take;
      row.quantity -= take;
      const to: SupplyKey = { ...row.key, segment: move.to };
      const receiver = left.get(supplyRowId(to)) ?? { key: to, quantity: 0 };
      receiver.quantity += take;
      left.set(supplyRowId(to), receiver);
      deltas.push({ key: row.key, delta: -take, move }, { key: to, delta: take, move });
    }
    if (wanted > 0) throw new Error(`move of ${move.quantity} ${move.supplyType} exceeds what the giver holds`);
  }
  return deltas;
}

/** Every supply type's summed quantity over a participant's rows. */
export function supplyByType(
  supplies: ReadonlyArray<{ readonly key: SupplyKey; readonly quantity: number }>,
): Partial<Record<SupplyType, number>> {
  const byType: Partial<Record<SupplyType, number>> = {};
  for (const s of supplies) byType[s.key.supplyType] = (byType[s.key.supplyType] ?? 0) + s.quantity;
  return byType;
}

/** Identifies an item-node. */
export function itemNodeKeyId(n: ItemNode): string {
  return JSON.stringify([n.item.itemId, n.item.unitOfMeasure, n.item.productClass, n.nodeId]);
}

const segmentId = (s: SegmentKey) => JSON.stringify([s.segmentType, s.segment]);
const sameSegment = (a: SegmentKey, b: SegmentKey) => a.segmentType === b.segmentType && a.segment === b.segment;
const supplyRowId = (k: SupplyKey) =>
  JSON.stringify([
    k.item.itemId,
    k.item.unitOfMeasure,
    k.item.productClass,
    k.nodeId,
    k.segment.segmentType,
    k.segment.segment,
    k.supplyType,
    k.etaMs ?? 0,
  ]);
