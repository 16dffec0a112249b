import type { DemandKey } from './demand';
import { demandKeyId } from './demand';
import { isUnsegmented } from './keys';
import type { SupplyKey } from './supply';
import type { SupplyOutcome } from './supply-transactions';
import { supplyKeyId } from './supply';
import {
  MAX_REQUEST_ID_LENGTH,
  Violations,
  type DemandKeyInput,
  type SourceTimeLimit,
  type SupplyKeyInput,
} from './validation';

/**
 * Supply and demand are recorded the same way: a sync sets absolute quantities as of source times, an
 * adjust applies deltas dated by source times. `K` is the key of the quantity (a supply or a demand key).
 */
export interface SyncCommand<K> {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{ readonly key: K; readonly quantity: number; readonly sourceMs: number }>;
}

export interface AdjustCommand<K> {
  readonly requestId: string;
  readonly lines: ReadonlyArray<{
    readonly key: K;
    readonly delta: number;
    readonly sourceMs: number;
    readonly reason: string;
  }>;
  /**
   * Supply only: a cycle count's correction, and who stated the change. Present only when set, so that a plain
   * adjust's content, and with it the fingerprint its retries are compared by, is what it was before them.
   */
  readonly purpose?: 'CYCLE_COUNT';
  readonly actor?: string;
}

export interface SyncInput<KIn> {
  readonly requestId: string;
  /** Source times later than this are refused. */
  readonly sourceTimeLimit: SourceTimeLimit;
  readonly lines: ReadonlyArray<{
    readonly key: KIn | undefined;
    readonly quantity: number;
    readonly sourceMs: number | undefined;
  }>;
}

export interface AdjustInput<KIn> {
  readonly requestId: string;
  /** Source times later than this are refused. */
  readonly sourceTimeLimit: SourceTimeLimit;
  readonly lines: ReadonlyArray<{
    readonly key: KIn | undefined;
    readonly delta: number;
    readonly sourceMs: number | undefined;
    readonly reason: string;
  }>;
}

/** How to check a key as sent and turn it into a key. */
interface KeyRules<KIn, K> {
  check(v: Violations, field: string, key: KIn | undefined): void;
  /** Only for inputs that passed `check`. */
  toKey(input: KIn): K;
  keyId(key: K): string;
}

/**
 * Checks a sync as sent; throws InvalidArgumentError naming every bad field, or BatchTooLargeError.
 * `checkLine` adds the checks of a kind's own line fields.
 */
function parseSync<KIn, K>(
  rules: KeyRules<KIn, K>,
  input: SyncInput<KIn>,
  checkLine: (v: Violations, i: number) => void = () => undefined,
): SyncCommand<K> {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  v.lineCount('lines', input.lines.length);
  const seen = new Map<string, number>();
  input.lines.forEach((line, i) => {
    rules.check(v, `lines[${i}].key`, line.key);
    v.quantity(`lines[${i}].quantity`, line.quantity, 0);
    v.sourceTime(`lines[${i}].source_time`, line.sourceMs, input.sourceTimeLimit);
    checkLine(v, i);
    if (!v.isEmpty) return;
    // Two absolute quantities for one position in one request contradict each other.
    const id = rules.keyId(rules.toKey(line.key as KIn));
    const first = seen.get(id);
    if (first !== undefined) v.add(`lines[${i}].key`, `names the same position as lines[${first}]`);
    else seen.set(id, i);
  });
  v.throwIfAny();
  return {
    requestId: input.requestId,
    lines: input.lines.map((l) => ({
      key: rules.toKey(l.key as KIn),
      quantity: l.quantity,
      sourceMs: l.sourceMs as number,
    })),
  };
}

/** Checks an adjust as sent. Several lines may change one position; they apply in order. */
function parseAdjust<KIn, K>(
  rules: KeyRules<KIn, K>,
  input: AdjustInput<KIn>,
  checkRequest: (v: Violations) => void = () => undefined,
): AdjustCommand<K> {
  const v = new Violations();
  v.requestId('request_id', input.requestId);
  checkRequest(v);
  v.lineCount('lines', input.lines.length);
  input.lines.forEach((line, i) => {
    rules.check(v, `lines[${i}].key`, line.key);
    v.delta(`lines[${i}].quantity_delta`, line.delta);
    v.sourceTime(`lines[${i}].source_time`, line.sourceMs, input.sourceTimeLimit);
    v.text(`lines[${i}].reason`, line.reason, 64);
  });
  v.throwIfAny();
  return {
    requestId: input.requestId,
    lines: input.lines.map((l) => ({
      key: rules.toKey(l.key as KIn),
      delta: l.delta,
      sourceMs: l.sourceMs as number,
      reason: l.reason,
    })),
  };
}

const SUPPLY_KEYS: KeyRules<SupplyKeyInput, SupplyKey> = {
  check: (v, field, key) => v.supplyKey(field, key),
  toKey: (input) => ({
    item: input.item!,
    nodeId: input.nodeId,
    segment: input.segment,
    supplyType: input.supplyType!,
    etaMs: input.etaMs ?? null,
  }),
  keyId: supplyKeyId,
};

const DEMAND_KEYS: KeyRules<DemandKeyInput, DemandKey> = {
  check: (v, field, key) => v.demandKey(field, key),
  toKey: (input) => ({
    item: input.item!,
    nodeId: input.nodeId,
    segment: input.segment,
    demandType: input.demandType!,
    orderReference: input.orderReference,
  }),
  keyId: demandKeyId,
};

export interface SupplySyncInput extends SyncInput<SupplyKeyInput> {
  readonly lines: ReadonlyArray<SyncInput<SupplyKeyInput>['lines'][number] & { readonly physicalTotal: boolean }>;
  readonly skipAllocation: boolean;
}

/**
 * A supply sync. A line with `physicalTotal` is the node's physical total across the pool and every segment
 * (DESIGN §2 "Physical-total sync"); `skipAllocation` leaves the segments' allocation to a later rebalance.
 * Both are present only when set, so that a plain sync's content, and with it the fingerprint its retries are
 * compared by, is what it was before physical totals existed.
 */
export interface SupplySyncCommand extends SyncCommand<SupplyKey> {
  readonly lines: ReadonlyArray<SyncCommand<SupplyKey>['lines'][number] & { readonly physicalTotal?: true }>;
  readonly skipAllocation?: true;
}
export interface SupplyAdjustInput extends AdjustInput<SupplyKeyInput> {
  /** Why: a plain adjust or a cycle count's correction; undefined for a purpose a caller may not state. */
  readonly purpose: 'SUPPLY_ADJUSTMENT' | 'CYCLE_COUNT' | undefined;
  readonly actor: string;
}
export type DemandSyncInput = SyncInput<DemandKeyInput>;
export type DemandAdjustInput = AdjustInput<DemandKeyInput>;

/** Checks a supply sync: a physical total only on a line of the unsegmented pool. */
export function parseSupplySync(input: SupplySyncInput): SupplySyncCommand {
  const cmd = parseSync(SUPPLY_KEYS, input, (v, i) => {
    const line = input.lines[i]!;
    if (line.physicalTotal && line.key && !isUnsegmented(line.key.segment))
      v.add(`lines[${i}].physical_total`, 'is only for a key with an empty segment (the unsegmented pool)');
  });
  return {
    ...cmd,
    lines: cmd.lines.map((line, i) => (input.lines[i]!.physicalTotal ? { ...line, physicalTotal: true } : line)),
    ...(input.skipAllocation ? { skipAllocation: true } : {}),
  };
}
/** Checks a supply adjust: a caller may state a plain adjust or a cycle count's correction, and an actor. */
export function parseSupplyAdjust(input: SupplyAdjustInput): AdjustCommand<SupplyKey> {
  const cmd = parseAdjust(SUPPLY_KEYS, input, (v) => {
    if (input.purpose === undefined)
      v.add('purpose', 'must be SUPPLY_PURPOSE_SUPPLY_ADJUSTMENT (or unset) or SUPPLY_PURPOSE_CYCLE_COUNT');
    v.text('actor', input.actor, MAX_REQUEST_ID_LENGTH);
  });
  return {
    ...cmd,
    ...(input.purpose === 'CYCLE_COUNT' ? { purpose: 'CYCLE_COUNT' as const } : {}),
    ...(input.actor ? { actor: input.actor } : {}),
  };
}
export const parseDemandSync = (input: DemandSyncInput) => parseSync(DEMAND_KEYS, input);
export const parseDemandAdjust = (input: DemandAdjustInput) => parseAdjust(DEMAND_KEYS, input);

/** What one line of a sync or adjust did, in request order. */
export interface LineResult<K> {
  readonly key: K;
  readonly outcome: SupplyOutcome;
  readonly quantityBefore: number;
  readonly quantityAfter: number;
}

export type SupplyLineResult = LineResult<SupplyKey>;
