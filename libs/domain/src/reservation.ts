import { InsufficientAvailabilityError, type Shortfall } from './errors';
import type { ItemKey, SegmentKey } from './keys';

/** Where stock is counted and held: an item at a node in a segment. */
export interface PositionKey {
  readonly item: ItemKey;
  readonly nodeId: string;
  readonly segment: SegmentKey;
}

/** The values that name a position, in key order: the start of every key id of a row at a position. */
export function positionKeyParts(key: PositionKey): Array<string> {
  const { item, segment } = key;
  return [item.itemId, item.unitOfMeasure, item.productClass, key.nodeId, segment.segmentType, segment.segment];
}

/** A string that identifies a position. */
export function positionKeyId(key: PositionKey): string {
  return JSON.stringify(positionKeyParts(key));
}

/** The position key a {@link positionKeyId} names. */
export function positionKeyOfId(positionId: string): PositionKey {
  const [itemId, unitOfMeasure, productClass, nodeId, segmentType, segment] = JSON.parse(positionId) as string[];
  return {
    item: { itemId: itemId!, unitOfMeasure: unitOfMeasure!, productClass: productClass! },
    nodeId: nodeId!,
    segment: { segmentType: segmentType!, segment: segment! },
  };
}

/** A string that identifies the item-node of a position: the pool and every segment there share it. */
export function itemNodeId(key: PositionKey): string {
  return JSON.stringify(positionKeyParts(key).slice(0, 4));
}

/** Whether two positions are of the same item at the same node (the pool and its segments there). */
export function sameItemNode(a: PositionKey, b: PositionKey): boolean {
  return itemNodeId(a) === itemNodeId(b);
}

export type ReservationState = 'ACTIVE' | 'RELEASED' | 'CONSUMED' | 'EXPIRED';

/** A line as the caller asked for it. */
export interface ReservationLine {
  readonly item: ItemKey;
  readonly location: { readonly nodeId: string } | { readonly distributionGroupId: string };
  readonly segment: SegmentKey;
  readonly quantity: number;
  readonly allowSplit: boolean;
}

/** Units of one line held at one node. */
export interface Allocation {
  readonly lineIndex: number;
  readonly nodeId: string;
  readonly quantity: number;
}

export interface ReservedLine {
  readonly line: ReservationLine;
  readonly allocations: readonly Allocation[];
  readonly consumedQuantity: number;
}

export interface Reservation {
  readonly reservationId: string;
  readonly state: ReservationState;
  readonly lines: readonly ReservedLine[];
  readonly expireMs: number;
  readonly createMs: number;
  readonly updateMs: number;
}

/** An ACTIVE reservation past its expiry holds nothing, whether or not the sweeper has run. */
export function effectiveState(state: ReservationState, expireMs: number, nowMs: number): ReservationState {
  return state === 'ACTIVE' && expireMs <= nowMs ? 'EXPIRED' : state;
}

export function locationOf(line: ReservationLine): string {
  return 'nodeId' in line.location ? line.location.nodeId : line.location.distributionGroupId;
}

/** What lines may still take, position by position (by position key id), as requests are planned in turn. */
export interface Balance {
  /** Units a line may still take at a position; never negative. */
  free(positionId: string): number;
  /** Of those, what the position has of its own and what it may borrow from the pool. */
  parts(positionId: string): { readonly own: number; readonly borrowable: number };
  /** Takes units at a position. */
  take(positionId: string, quantity: number): void;
  /** An independent copy, to plan a request on before taking its units for good. */
  copy(): Balance;
}

/** A request for units of one line, and the nodes that may hold them, in priority order. */
export interface LineDemand {
  readonly lineIndex: number;
  readonly line: ReservationLine;
  readonly quantity: number;
  readonly candidateNodes: readonly string[];
  /** Whether the quantity may be spread over several candidate nodes. */
  readonly allowSplit: boolean;
}

/**
 * Decides where every line is held, or that the request cannot be held at all.
 *
 * `available` says what can still be promised at each position; lines are taken in order against a
 * running balance, so lines that share a position are checked against their sum. A line without a split
 * goes whole to the first candidate node (in priority order) that can hold it; a split line fills the
 * candidates in order. All or nothing: any short line fails the whole request, listing every short line.
 * On success the balance has the request's units taken out, so several requests can be planned in turn.
 */
export function planAllocations(demands: readonly LineDemand[], available: Balance): Allocation[] {
  const balance = available.copy();
  const takes: Array<[positionId: string, quantity: number]> = [];
  const allocations: Allocation[] = [];
  const shortfalls: Shortfall[] = [];
  const at = (d: LineDemand, nodeId: string) => positionKeyId({ item: d.line.item, nodeId, segment: d.line.segment });
  for (const d of demands) {
    const free = d.candidateNodes.map((nodeId) => ({ nodeId, free: balance.free(at(d, nodeId)) }));
    const taken: Allocation[] = [];
    if (d.allowSplit) {
      let left = d.quantity;
      for (const n of free) {
        if (left === 0) break;
        const take = Math.min(n.free, left);
        if (take > 0) taken.push({ lineIndex: d.lineIndex, nodeId: n.nodeId, quantity: take });
        left -= take;
      }
      if (left > 0) taken.length = 0;
    } else {
      const node = free.find((n) => n.free >= d.quantity);
      if (node) taken.push({ lineIndex: d.lineIndex, nodeId: node.nodeId, quantity: d.quantity });
    }
    if (taken.length === 0 && d.quantity > 0) {
      // A split line could have had every node's units; an unsplit one those of the best node.
      const counted = d.allowSplit ? free : free.filter((n) => n === best(free));
      const parts = counted.map((n) => balance.parts(at(d, n.nodeId)));
      shortfalls.push({
        lineIndex: d.lineIndex,
        itemId: d.line.item.itemId,
        location: locationOf(d.line),
        requested: d.quantity,
        available: counted.reduce((s, n) => s + n.free, 0),
        own: parts.reduce((s, p) => s + p.own, 0),
        borrowable: parts.reduce((s, p) => s + p.borrowable, 0),
      });
      continue;
    }
    for (const a of taken) {
      balance.take(at(d, a.nodeId), a.quantity);
      takes.push([at(d, a.nodeId), a.quantity]);
    }
    allocations.push(...taken);
  }
  if (shortfalls.length > 0) throw new InsufficientAvailabilityError(shortfalls);
  for (const [positionId, quantity] of takes) available.take(positionId, quantity);
  return allocations;
}

/** The first of the nodes with the most free units (none when there are no nodes). */
function best<N extends { readonly free: number }>(nodes: readonly N[]): N | undefined {
  return nodes.reduce<N | undefined>((b, n) => (b === undefined || n.free > b.free ? n : b), undefined);
}

/**
 * Frees `quantity` units of a line's allocations, last node first (the group's lowest priority), and
 * returns the per-node decrements.
 */
export function takeFromAllocations(
  allocations: readonly Allocation[],
  quantity: number,
  order: 'first' | 'last',
): Allocation[] {
  const ordered = order === 'first' ? [...allocations] : [...allocations].reverse();
  const taken: Allocation[] = [];
  let left = quantity;
  for (const a of ordered) {
    if (left === 0) break;
    const take = Math.min(a.quantity, left);
    if (take > 0) taken.push({ ...a, quantity: take });
    left -= take;
  }
  return taken;
}
