import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  countsFromEta,
  decideAdjust,
  decideSync,
  demandCounts,
  parsePageSize,
  positionKeyId,
  requireSegmentKey,
  supplyCountsAsOf,
  Violations,
  type AdjustCommand,
  type AllocationRecord,
  type DemandKey,
  type ItemKey,
  type LineResult,
  type PositionKey,
  type SegmentKey,
  type SupplyDecision,
  type SupplyKey,
  type SupplyPurpose,
  type SyncCommand,
  type Clock,
} from '@inventory/domain';
import {
  appendLedger,
  appendOutbox,
  appliedAdjustsAfter,
  ensurePositions,
  findQuantities,
  listQuantities,
  lockQuantities,
  readConsumptionRules,
  shiftPositions,
  updateQuantities,
  DEMAND,
  SUPPLY,
  type Database,
  type LedgerAudit,
  type LedgerEntry,
  type LockedQuantity,
  type PositionShift,
  type QuantityTable,
  mutate,
  plainAudit,
  decodePageToken,
  page,
} from '@inventory/store';
import type { ChangeEvent } from '@inventory/contracts';
import { demandEvent, supplyEvent, type ActionContext, type EventContext } from '../events/change-events';
import { positionEventsAfterChange } from '../events/position-events';
import { settleLoans } from './loans';
import type { NodeCatalog } from './node-catalog';
import { requireUsableSegments } from './segment-catalog';

/** One line to apply: the key, and how to decide its new state once it is locked. */
export interface PendingLine<K> {
  readonly key: K;
  readonly transactionType: 'SYNC' | 'ADJUST';
  readonly quantity: number;
  readonly sourceMs: number;
  readonly reason: string;
  /** Why the supply changes, when not a caller's plain sync or adjust, and the allocation behind a move. */
  readonly purpose?: SupplyPurpose;
  readonly allocation?: AllocationRecord;
  /** `adjustsAfter(t)` sums the deltas already applied to the row that are dated after `t`. */
  readonly decide: (row: LockedQuantity, adjustsAfter: (afterMs: number) => number) => SupplyDecision;
}

/** What a kind of quantity does to its stock position when it moves from `before` to `after`. */
type PositionEffect<K> = (key: K, delta: number, nowMs: number) => Omit<PositionShift, 'positionId'>;

/**
 * Records quantities from source systems: supply, or demand. Each request is one transaction: the rows,
 * their stock positions, one ledger row per line (applied or ignored) and one change-stream event per line
 * commit together, or nothing does.
 */
export class QuantityLedger<K extends PositionKey> {
  constructor(
    private readonly db: Database,
    private readonly nodes: NodeCatalog,
    private readonly clock: Clock,
    private readonly spec: QuantityTable<K>,
    private readonly kind: 'supply' | 'demand',
    private readonly effect: PositionEffect<K>,
    private readonly event: (context: EventContext, key: K, entry: LedgerEntry) => ChangeEvent,
  ) {}

  async sync(method: string, cmd: SyncCommand<K>): Promise<Array<LineResult<K>>> {
    return this.apply(
      method,
      cmd.requestId,
      cmd,
      cmd.lines.map((line) => syncLine(line.key, line.quantity, line.sourceMs, '')),
    );
  }

  async adjust(method: string, cmd: AdjustCommand<K>): Promise<Array<LineResult<K>>> {
    return this.apply(
      method,
      cmd.requestId,
      cmd,
      cmd.lines.map((line) => ({
        ...adjustLine(line.key, line.delta, line.sourceMs, line.reason),
        ...(cmd.purpose && { purpose: cmd.purpose }),
      })),
      cmd.actor,
    );
  }

  /** Every row of an item at a node in a segment. */
  async get(item: ItemKey | undefined, nodeId: string, segment: SegmentKey) {
    const v = new Violations();
    v.item('item', item);
    v.id('node_id', nodeId);
    v.segment('segment', segment);
    v.throwIfAny();
    await requireUsableSegments(this.db.knex, [['segment', segment]]);
    await this.nodes.requireNodes([nodeId]);
    return findQuantities(this.spec, { db: this.db.knex, item: item as ItemKey, nodeIds: [nodeId], segment });
  }

  /** `filter.segment` undefined lists every segment; the unsegmented pool is a segment key with both fields empty. */
  async list(filter: { nodeId: string; itemId: string; segment?: SegmentKey }, pageSize: number, pageToken: string) {
    if (filter.segment) requireSegmentKey('segment', filter.segment);
    const size = parsePageSize(pageSize);
    const filters = `${this.kind}:${filter.nodeId}:${filter.itemId}${filter.segment ? `:${JSON.stringify(filter.segment)}` : ''}`;
    const after = decodePageToken(pageToken, filters, 0);
    const rows = await listQuantities(this.spec, { db: this.db.knex, ...filter, afterId: after, limit: size + 1 });
    const result = page(rows, size, (r) => r.id, filters);
    return { items: result.items.map((r) => r.record), nextPageToken: result.nextPageToken };
  }

  private async apply(
    method: string,
    requestId: string,
    request: unknown,
    lines: ReadonlyArray<PendingLine<K>>,
    actor?: string,
  ): Promise<Array<LineResult<K>>> {
    return this.mutateLines(
      method,
      requestId,
      request,
      lines.map((l) => l.key),
      (trx, nowMs, action) => this.applyInTransaction(trx, nowMs, actor ? { ...action, actor } : action, lines),
    );
  }

  /**
   * Runs a caller's request of lines the way every sync and adjust runs: their nodes checked, then once per
   * request id in one transaction, their segments checked (and locked) inside it; `work` gets the request's
   * action and applies the lines (with `applyInTransaction`, and whatever else the request does).
   */
  async mutateLines<T>(
    method: string,
    requestId: string,
    request: unknown,
    keys: readonly K[],
    work: (trx: Knex.Transaction, nowMs: number, action: ActionContext) => Promise<T>,
  ): Promise<T> {
    await this.nodes.requireNodes(keys.map((k) => k.nodeId));
    return mutate({ db: this.db, clock: this.clock, method, requestId, request }, async (trx, nowMs) => {
      // In the transaction, after a retry has had its first answer: a segment retired meanwhile waits for it.
      await requireUsableSegments(
        trx,
        keys.map((key, i) => [`lines[${i}].key.segment`, key.segment]),
        { lock: true },
      );
      return work(trx, nowMs, { actionId: randomUUID(), requestId });
    });
  }

  /**
   * Applies lines inside the caller's transaction: locks the rows (in key order), decides each line,
   * writes rows, positions, ledger and events. Positions are written last, in position order. The action
   * context names the action, and for the service's own changes, its cause, its run and its actor.
   */
  async applyInTransaction(
    trx: Knex.Transaction,
    nowMs: number,
    action: ActionContext,
    lines: ReadonlyArray<PendingLine<K>>,
  ): Promise<Array<LineResult<K>>> {
    const { actionId, requestId } = action;
    const rows = await lockQuantities(this.spec, { trx, keys: lines.map((l) => l.key), nowMs });
    const positions = await ensurePositions({ trx, keys: lines.map((l) => l.key) });
    const adjustsAfter = await this.adjustsAfterFor(trx, lines, [...rows.values()]);
    const ledger: LedgerEntry[] = [];
    const results: Array<LineResult<K>> = [];
    const shifts: PositionShift[] = [];
    for (const line of lines) {
      const id = this.spec.keyId(line.key);
      const row = rows.get(id) as LockedQuantity;
      const decision = line.decide(row, (afterMs) => adjustsAfter(row.id, afterMs));
      rows.set(id, { ...row, quantity: decision.quantityAfter, lastSyncMs: decision.lastSyncMs });
      results.push({
        key: line.key,
        outcome: decision.outcome,
        quantityBefore: decision.quantityBefore,
        quantityAfter: decision.quantityAfter,
      });
      shifts.push({
        positionId: positions.get(positionKeyId(line.key)) as number,
        ...this.effect(line.key, decision.quantityAfter - decision.quantityBefore, nowMs),
      });
      ledger.push({
        actionId,
        requestId,
        rowId: row.id,
        transactionType: line.transactionType,
        quantity: line.quantity,
        sourceMs: line.sourceMs,
        reason: line.reason,
        outcome: decision.outcome,
        quantityBefore: decision.quantityBefore,
        quantityAfter: decision.quantityAfter,
        audit: auditOf(action, line),
      });
    }
    await updateQuantities(this.spec, { trx, rows: [...rows.values()], nowMs });
    await appendLedger(this.spec, { trx, entries: ledger, nowMs });
    await shiftPositions({ trx, shifts });
    // Each position once, however many of its rows the lines moved.
    const moved = [
      ...new Map(
        lines.filter((_, i) => shifts[i]?.supply || shifts[i]?.demand).map((l) => [positionKeyId(l.key), l.key]),
      ).values(),
    ];
    const rules = await readConsumptionRules({ db: trx });
    const loansMoved = await settleLoans(trx, moved, rules);
    // After the shifts, so that the positions' totals are read under their locks.
    const context: EventContext = { ...action, occurMs: nowMs };
    await appendOutbox({
      trx,
      events: [
        ...ledger.map((entry, i) => this.event(context, lines[i]!.key, entry)),
        ...(await positionEventsAfterChange(trx, context, [...moved, ...loansMoved], rules)),
      ],
    });
    return results;
  }

  /** For syncs: the adjusts already applied after the earliest sync time, in one read per chunk of rows. */
  private async adjustsAfterFor(
    trx: Knex.Transaction,
    lines: ReadonlyArray<PendingLine<K>>,
    rows: readonly LockedQuantity[],
  ) {
    const syncTimes = lines.filter((l) => l.transactionType === 'SYNC').map((l) => l.sourceMs);
    const applied =
      syncTimes.length === 0
        ? new Map<number, Array<{ sourceMs: number; delta: number }>>()
        : await appliedAdjustsAfter(this.spec, { trx, ids: rows.map((r) => r.id), afterMs: Math.min(...syncTimes) });
    return (rowId: number, afterMs: number) =>
      (applied.get(rowId) ?? []).filter((a) => a.sourceMs > afterMs).reduce((sum, a) => sum + a.delta, 0);
  }
}

/** The ledger audit of a line applied under an action. */
function auditOf(action: ActionContext, line: PendingLine<unknown>): LedgerAudit {
  return {
    purpose: line.purpose ?? plainAudit(line.transactionType).purpose,
    auditType: action.systemActor === undefined ? 'USER' : 'SYSTEM',
    actor: action.systemActor ?? action.actor ?? '',
    parentActionId: action.parentActionId ?? '',
    relatedActionId: action.relatedActionId ?? '',
    allocation: line.allocation ?? null,
  };
}

/**
 * A supply move a rebalance or allocation makes: applied whatever the row's last sync (the service's own
 * decision, dated by its clock, cannot be stale), and re-applied like an adjust by a later sync dated before it.
 * `allocation` is the rule behind it; a physical total's taking from a segment has none.
 */
export function moveLine(
  key: SupplyKey,
  delta: number,
  nowMs: number,
  purpose: SupplyPurpose,
  allocation?: AllocationRecord,
): PendingLine<SupplyKey> {
  return {
    key,
    transactionType: 'ADJUST',
    quantity: delta,
    sourceMs: nowMs,
    reason: purpose,
    purpose,
    allocation,
    decide: (row) => ({
      outcome: 'APPLIED',
      quantityBefore: row.quantity,
      quantityAfter: row.quantity + delta,
      lastSyncMs: row.lastSyncMs,
    }),
  };
}

/** A sync of `key` to `quantity` as of `sourceMs`, under the sync-versus-adjust rule. */
export function syncLine<K>(key: K, quantity: number, sourceMs: number, reason: string): PendingLine<K> {
  return {
    key,
    transactionType: 'SYNC',
    quantity,
    sourceMs,
    reason,
    decide: (row, adjustsAfter) => decideSync(row, quantity, sourceMs, adjustsAfter(sourceMs)),
  };
}

export function adjustLine<K>(key: K, delta: number, sourceMs: number, reason: string): PendingLine<K> {
  return {
    key,
    transactionType: 'ADJUST',
    quantity: delta,
    sourceMs,
    reason,
    decide: (row) => decideAdjust(row, delta, sourceMs),
  };
}

/** Supply that counts now moves the position's supply; supply that counts from a later ETA marks when to recount. */
function supplyEffect(key: SupplyKey, delta: number, nowMs: number): Omit<PositionShift, 'positionId'> {
  if (supplyCountsAsOf(key, nowMs)) return { supply: delta };
  const etaMs = countsFromEta(key);
  return etaMs === null ? {} : { nextEtaMs: etaMs };
}

function demandEffect(key: DemandKey, delta: number): Omit<PositionShift, 'positionId'> {
  return demandCounts(key.demandType) ? { demand: delta } : {};
}

export const supplyLedger = (db: Database, nodes: NodeCatalog, clock: Clock) =>
  new QuantityLedger(db, nodes, clock, SUPPLY, 'supply', supplyEffect, supplyEvent);
export const demandLedger = (db: Database, nodes: NodeCatalog, clock: Clock) =>
  new QuantityLedger(db, nodes, clock, DEMAND, 'demand', demandEffect, demandEvent);
