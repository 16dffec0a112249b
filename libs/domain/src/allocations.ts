import type { Allocation, ReservedLine } from './reservation';

/** Units in a list of allocations. */
export function unitsOf(allocations: readonly Allocation[]): number {
  return allocations.reduce((s, a) => s + a.quantity, 0);
}

/** Units a line holds now (what it was asked for, less what was consumed or released). */
export function heldBy(line: ReservedLine): number {
  return unitsOf(line.allocations);
}

/** Allocations less the units taken from them (per line and node); allocations that reach zero go. */
export function subtract(allocations: readonly Allocation[], taken: readonly Allocation[]): Allocation[] {
  return allocations
    .map((a) => ({
      ...a,
      quantity: a.quantity - unitsOf(taken.filter((t) => t.lineIndex === a.lineIndex && t.nodeId === a.nodeId)),
    }))
    .filter((a) => a.quantity > 0);
}

/** One line's allocations with units added: to its allocation at the same node, else as a new one. */
export function addTo(allocations: readonly Allocation[], added: readonly Allocation[]): Allocation[] {
  const result = [...allocations];
  for (const a of added) {
    const i = result.findIndex((r) => r.nodeId === a.nodeId);
    if (i >= 0) result[i] = { ...result[i]!, quantity: result[i]!.quantity + a.quantity };
    else result.push(a);
  }
  return result;
}

/** Lines that hold nothing any more. */
export function withoutAllocations(lines: readonly ReservedLine[]): ReservedLine[] {
  return lines.map((l) => ({ ...l, allocations: [] }));
}

/** A line whose allocations changed: its quantity is what it now holds. */
export function withAllocations(line: ReservedLine, allocations: readonly Allocation[]): ReservedLine {
  return { ...line, allocations, line: { ...line.line, quantity: unitsOf(allocations) } };
}
