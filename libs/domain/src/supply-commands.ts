import type { SupplyKey } from './supply';
import type { SupplyOutcome } from './supply-transactions';
import { supplyKeyId } from './supply';
import { Violations, type SupplyKeyInput } from './validation';

/** Sets absolute quantities as of source times. */
export interface SupplySyncCommand {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{ readonly key: SupplyKey; readonly quantity: number; readonly sourceMs: number }>;
}

/** Applies deltas dated by source times. */
export interface SupplyAdjustCommand {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{ readonly key: SupplyKey; readonly delta: number; readonly sourceMs: number; readonly reason: string }>;
}

export interface SupplySyncInput {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{ readonly key: SupplyKeyInput | undefined; readonly quantity: number; readonly sourceMs: number | undefined }>;
}

export interface SupplyAdjustInput {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{
    readonly key: SupplyKeyInput | undefined;
    readonly delta: number;
    readonly sourceMs: number | undefined;
    readonly reason: string;
  }>;
}

/** Checks a sync as sent; throws InvalidArgumentError naming every bad field, or BatchTooLargeError. */
export function parseSupplySync(input: SupplySyncInput): SupplySyncCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.lineCount('lines', input.lines.length);
  const seen = new Map<string, number>();
  input.lines.forEach((line, i) => {
    v.supplyKey(`lines[${i}].key`, line.key);
    v.quantity(`lines[${i}].quantity`, line.quantity, 0);
    v.time(`lines[${i}].source_time`, line.sourceMs);
    if (!v.isEmpty) return;
    // Two absolute quantities for one position in one request contradict each other.
    const id = supplyKeyId(toKey(line.key as SupplyKeyInput));
    const first = seen.get(id);
    if (first !== undefined) v.add(`lines[${i}].key`, `names the same position as lines[${first}]`);
    else seen.set(id, i);
  });
  v.throwIfAny();
  return {
    requestId: input.requestId,
    lines: input.lines.map((l) => ({ key: toKey(l.key as SupplyKeyInput), quantity: l.quantity, sourceMs: l.sourceMs as number })),
  };
}

/** Checks an adjust as sent. Several lines may change one position; they apply in order. */
export function parseSupplyAdjust(input: SupplyAdjustInput): SupplyAdjustCommand {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.lineCount('lines', input.lines.length);
  input.lines.forEach((line, i) => {
    v.supplyKey(`lines[${i}].key`, line.key);
    v.delta(`lines[${i}].quantity_delta`, line.delta);
    v.time(`lines[${i}].source_time`, line.sourceMs);
    v.text(`lines[${i}].reason`, line.reason, 64);
  });
  v.throwIfAny();
  return {
    requestId: input.requestId,
    lines: input.lines.map((l) => ({ key: toKey(l.key as SupplyKeyInput), delta: l.delta, sourceMs: l.sourceMs as number, reason: l.reason })),
  };
}

/** Only for inputs that passed {@link Violations.supplyKey}. */
function toKey(input: SupplyKeyInput): SupplyKey {
  return {
    item: input.item!,
    nodeId: input.nodeId,
    segment: input.segment,
    supplyType: input.supplyType!,
    etaMs: input.etaMs ?? null,
  };
}

/** What one line of a sync or adjust did, in request order. */
export interface SupplyLineResult {
  readonly key: SupplyKey;
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
}
