import {
  figuresOf,
  itemNodeFigures,
  loanOf,
  mayBorrowNow,
  ownOf,
  type ConsumptionRules,
  type ItemNodeFigures,
  type PositionCounts,
  type PositionFigures,
} from './borrowing';
import { withheldSafetyStock, type PositionTotals } from './counting';
import { isUnsegmented, UNSEGMENTED } from './keys';
import { itemNodeId, positionKeyId, positionKeyOfId, type Balance, type PositionKey } from './reservation';

/** A position's running totals as kept, with the loan it was last settled at. */
export interface KeptPosition extends PositionTotals {
  readonly loan: number;
}

/** A position as it stands: its counts, the safety stock withheld there (pool only), and its figures. */
export interface PositionView {
  readonly counts: PositionCounts;
  readonly safetyStock: number;
  readonly figures: PositionFigures;
}

/** A position whose settled loan a plan changes, and by how much. */
export interface LoanChange {
  readonly key: PositionKey;
  readonly delta: number;
}

interface Slot {
  readonly key: PositionKey;
  counts: PositionCounts;
  readonly settledLoan: number;
}

/** The positions of one item at one node: the pool's (if kept) and the segments'. */
interface ItemNode {
  readonly pool: Slot;
  readonly safetyStock: number;
  readonly segments: readonly Slot[];
}

/**
 * The balance of every position of the item-nodes a batch may draw on: the pool and each segment, which
 * borrows from the pool by the consumption rules. What a segment line may take is its own available plus
 * what it may borrow; taking beyond its own grows its loan, which leaves the pool and the other borrowing
 * segments less. Positions with no totals count as empty.
 */
export class StockBalance implements Balance {
  /** Every slot by its position key id, with its item-node. */
  private readonly slots = new Map<string, { node: ItemNode; slot: Slot }>();

  private constructor(
    private readonly itemNodes: ReadonlyMap<string, ItemNode>,
    private readonly rules: ConsumptionRules,
  ) {
    for (const node of itemNodes.values())
      for (const slot of [node.pool, ...node.segments]) this.slots.set(positionKeyId(slot.key), { node, slot });
  }

  /**
   * From the positions kept at the item-nodes of `keys`, by position key id (every segment there, so that
   * the loans out are known), and the keys lines may draw on, kept or not.
   */
  static of(
    keys: readonly PositionKey[],
    kept: ReadonlyMap<string, KeptPosition>,
    rules: ConsumptionRules,
  ): StockBalance {
    const all = new Map<string, readonly [PositionKey, KeptPosition | undefined]>(
      [...kept].map(([id, p]) => [id, [positionKeyOfId(id), p]]),
    );
    for (const key of keys) if (!all.has(positionKeyId(key))) all.set(positionKeyId(key), [key, undefined]);
    const grouped = new Map<string, Array<readonly [PositionKey, KeptPosition | undefined]>>();
    for (const entry of all.values())
      grouped.set(itemNodeId(entry[0]), [...(grouped.get(itemNodeId(entry[0])) ?? []), entry]);
    const itemNodes = new Map<string, ItemNode>();
    for (const [id, entries] of grouped) {
      const slot = ([key, p]: readonly [PositionKey, KeptPosition | undefined]): Slot => ({
        key,
        counts: { supply: p?.supply ?? 0, demand: p?.demand ?? 0, reserved: p?.reserved ?? 0 },
        settledLoan: isUnsegmented(key.segment) ? 0 : (p?.loan ?? 0),
      });
      const poolEntry = entries.find(([k]) => isUnsegmented(k.segment)) ?? [
        { ...entries[0]![0], segment: UNSEGMENTED },
        undefined,
      ];
      itemNodes.set(id, {
        pool: slot(poolEntry),
        safetyStock: poolEntry[1] ? withheldSafetyStock(poolEntry[0], poolEntry[1]) : 0,
        segments: entries.filter(([k]) => !isUnsegmented(k.segment)).map(slot),
      });
    }
    return new StockBalance(itemNodes, rules);
  }

  free(positionId: string): number {
    const found = this.find(positionId);
    if (!found) return 0;
    const figures = this.itemNodeFiguresOf(found.node);
    return found.slot === found.node.pool
      ? figures.pool.available
      : figures.segments[found.node.segments.indexOf(found.slot)]!.available;
  }

  parts(positionId: string): { own: number; borrowable: number } {
    const found = this.find(positionId);
    if (!found) return { own: 0, borrowable: 0 };
    const figures = figuresOf(this.itemNodeFiguresOf(found.node), found.slot.key.segment);
    return { own: figures.ownAvailable, borrowable: figures.borrowable };
  }

  take(positionId: string, quantity: number): void {
    const found = this.find(positionId);
    if (!found) throw new Error(`no position ${positionId} in the balance`);
    found.slot.counts = { ...found.slot.counts, reserved: found.slot.counts.reserved + quantity };
  }

  copy(): StockBalance {
    const copySlot = (s: Slot): Slot => ({ ...s });
    return new StockBalance(
      new Map(
        [...this.itemNodes].map(([id, n]) => [
          id,
          { pool: copySlot(n.pool), safetyStock: n.safetyStock, segments: n.segments.map(copySlot) },
        ]),
      ),
      this.rules,
    );
  }

  /** A position as it stands in the balance: its counts, the safety stock withheld there, and its figures. */
  position(key: PositionKey): PositionView | undefined {
    const found = this.find(positionKeyId(key));
    if (!found) return undefined;
    const pool = found.slot === found.node.pool;
    return {
      counts: found.slot.counts,
      safetyStock: pool ? found.node.safetyStock : 0,
      figures: figuresOf(this.itemNodeFiguresOf(found.node), key.segment),
    };
  }

  /**
   * The positions whose figures a change at `moved` may have moved: those themselves and, where the pool
   * or a loan moved, the pool and every segment that borrows or owes at that item-node (they share what
   * the pool has free).
   */
  touchedBy(moved: readonly PositionKey[]): PositionKey[] {
    const touched = new Map(moved.map((k) => [positionKeyId(k), k]));
    for (const key of [...touched.values()]) {
      const node = this.itemNodes.get(itemNodeId(key));
      if (!node) continue;
      const slot = [node.pool, ...node.segments].find((s) => same(s.key, key));
      const sharesPool = !slot || slot === node.pool || slot.settledLoan > 0 || mayBorrowNow(this.rules, key.segment);
      if (!sharesPool) continue;
      for (const s of [node.pool, ...node.segments])
        if (s === node.pool || s.settledLoan > 0 || mayBorrowNow(this.rules, s.key.segment))
          touched.set(positionKeyId(s.key), s.key);
    }
    return [...touched.values()];
  }

  /**
   * The loans this balance settles at, against those it started from: every segment whose loan changed
   * with what it took, and the pool's position by their sum.
   */
  loanChanges(): LoanChange[] {
    const changes: LoanChange[] = [];
    for (const node of this.itemNodes.values()) {
      let lent = 0;
      for (const s of node.segments) {
        const delta = loanOf(ownOf(s.counts), s.settledLoan, mayBorrowNow(this.rules, s.key.segment)) - s.settledLoan;
        if (delta !== 0) changes.push({ key: s.key, delta });
        lent += delta;
      }
      if (lent !== 0) changes.push({ key: node.pool.key, delta: lent });
    }
    return changes;
  }

  private itemNodeFiguresOf(node: ItemNode): ItemNodeFigures {
    return itemNodeFigures(
      {
        pool: node.pool.counts,
        safetyStock: node.safetyStock,
        segments: node.segments.map((s) => ({ segment: s.key.segment, counts: s.counts, settledLoan: s.settledLoan })),
      },
      this.rules,
    );
  }

  private find(positionId: string): { node: ItemNode; slot: Slot } | undefined {
    return this.slots.get(positionId);
  }
}

function same(a: PositionKey, b: PositionKey): boolean {
  return positionKeyId(a) === positionKeyId(b);
}
