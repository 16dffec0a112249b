import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  decideAdjust,
  decideSync,
  parsePageSize,
  parseSupplyAdjust,
  parseSupplySync,
  requireDefinedSegment,
  supplyKeyId,
  Violations,
  type ItemKey,
  type SegmentKey,
  type Supply,
  type SupplyAdjustInput,
  type SupplyDecision,
  type SupplyKey,
  type SupplyLineResult,
  type SupplySyncInput,
} from '@inventory/domain';
import {
  appendLedger,
  appliedAdjustsAfter,
  appendOutbox,
  findSupplies,
  listSupply,
  lockPositions,
  updatePositions,
  type Database,
  type LedgerEntry,
  type LockedPosition,
} from '@inventory/store';
import type { Clock } from './clock';
import { mutate } from './mutation';
import type { NodeCatalog } from './node-catalog';
import { decodePageToken, page } from './page-token';

/** One line to apply: the position, and how to decide its new state once it is locked. */
interface PendingLine {
  readonly key: SupplyKey;
  readonly transactionType: 'SYNC' | 'ADJUST';
  readonly quantity: number;
  readonly sourceMs: number;
  readonly reason: string;
  /** `adjustsAfter(t)` sums the deltas already applied to the position that are dated after `t`. */
  readonly decide: (position: LockedPosition, adjustsAfter: (afterMs: number) => number) => SupplyDecision;
}

/**
 * Records supply from source systems. Each request is one transaction: the positions, one ledger row per
 * line (applied or ignored) and one change-stream event per line commit together, or nothing does.
 */
export class SupplyLedger {
  constructor(
    private readonly db: Database,
    private readonly nodes: NodeCatalog,
    private readonly clock: Clock,
  ) {}

  async sync(input: SupplySyncInput): Promise<SupplyLineResult[]> {
    const cmd = parseSupplySync(input);
    const lines = cmd.lines.map(
      (line): PendingLine => ({
        key: line.key,
        transactionType: 'SYNC',
        quantity: line.quantity,
        sourceMs: line.sourceMs,
        reason: '',
        decide: (position, adjustsAfter) => decideSync(position, line.quantity, line.sourceMs, adjustsAfter(line.sourceMs)),
      }),
    );
    return this.apply('SyncSupply', cmd.requestId, cmd, lines);
  }

  async adjust(input: SupplyAdjustInput): Promise<SupplyLineResult[]> {
    const cmd = parseSupplyAdjust(input);
    const lines = cmd.lines.map(
      (line): PendingLine => ({
        key: line.key,
        transactionType: 'ADJUST',
        quantity: line.delta,
        sourceMs: line.sourceMs,
        reason: line.reason,
        decide: (position) => decideAdjust(position, line.delta, line.sourceMs),
      }),
    );
    return this.apply('AdjustSupply', cmd.requestId, cmd, lines);
  }

  /** Every position of an item at a node in a segment. */
  async get(item: ItemKey | undefined, nodeId: string, segment: SegmentKey): Promise<Supply[]> {
    const v = new Violations();
    v.item('item', item);
    v.id('node_id', nodeId);
    v.segment('segment', segment);
    v.throwIfAny();
    requireDefinedSegment('segment', segment);
    await this.nodes.requireNodes([nodeId]);
    return findSupplies({ db: this.db.knex, item: item as ItemKey, nodeIds: [nodeId], segment });
  }

  async list(filter: { nodeId: string; itemId: string }, pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const filters = `supply:${filter.nodeId}:${filter.itemId}`;
    const after = decodePageToken(pageToken, filters, 0);
    const rows = await listSupply({ db: this.db.knex, ...filter, afterSupplyId: after, limit: size + 1 });
    const result = page(rows, size, (r) => r.supplyId, filters);
    return { items: result.items.map((r) => r.supply), nextPageToken: result.nextPageToken };
  }

  private async apply(method: string, requestId: string, request: unknown, lines: readonly PendingLine[]): Promise<SupplyLineResult[]> {
    lines.forEach((line, i) => requireDefinedSegment(`lines[${i}].key.segment`, line.key.segment));
    await this.nodes.requireNodes(lines.map((l) => l.key.nodeId));
    return mutate({ db: this.db, clock: this.clock, method, requestId, request }, async (trx, nowMs) => {
      const positions = await lockPositions({ trx, keys: lines.map((l) => l.key), nowMs });
      const adjustsAfter = await this.adjustsAfterFor(trx, lines, [...positions.values()]);
      const actionId = randomUUID();
      const ledger: LedgerEntry[] = [];
      const results: SupplyLineResult[] = [];
      for (const line of lines) {
        const id = supplyKeyId(line.key);
        const position = positions.get(id) as LockedPosition;
        const decision = line.decide(position, (afterMs) => adjustsAfter(position.supplyId, afterMs));
        positions.set(id, { ...position, quantity: decision.quantityAfter, lastSyncMs: decision.lastSyncMs });
        results.push({ key: line.key, outcome: decision.outcome, quantityBefore: decision.quantityBefore, quantityAfter: decision.quantityAfter });
        ledger.push({
          actionId,
          requestId,
          supplyId: position.supplyId,
          transactionType: line.transactionType,
          quantity: line.quantity,
          sourceMs: line.sourceMs,
          reason: line.reason,
          outcome: decision.outcome,
          quantityBefore: decision.quantityBefore,
          quantityAfter: decision.quantityAfter,
        });
      }
      await updatePositions({ trx, positions: [...positions.values()], nowMs });
      await appendLedger({ trx, entries: ledger, nowMs });
      await appendOutbox({
        trx,
        nowMs,
        events: ledger.map((entry, i) => ({
          eventType: entry.outcome === 'APPLIED' ? 'supply.changed' : 'supply.ignored',
          actionId,
          payload: { ...entry, key: lines[i]?.key },
        })),
      });
      return results;
    });
  }

  /** For syncs: the adjusts already applied after the earliest sync time, in one read per chunk of positions. */
  private async adjustsAfterFor(trx: Knex.Transaction, lines: readonly PendingLine[], positions: readonly LockedPosition[]) {
    const syncTimes = lines.filter((l) => l.transactionType === 'SYNC').map((l) => l.sourceMs);
    const applied =
      syncTimes.length === 0
        ? new Map<number, Array<{ sourceMs: number; delta: number }>>()
        : await appliedAdjustsAfter({ trx, supplyIds: positions.map((p) => p.supplyId), afterMs: Math.min(...syncTimes) });
    return (supplyId: number, afterMs: number) =>
      (applied.get(supplyId) ?? []).filter((a) => a.sourceMs > afterMs).reduce((sum, a) => sum + a.delta, 0);
  }
}
