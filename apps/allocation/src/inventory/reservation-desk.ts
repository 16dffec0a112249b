import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import {
  DistributionGroupNotFoundError,
  effectiveState,
  InsufficientAvailabilityError,
  isUnsegmented,
  NodeNotFoundError,
  parseReserve,
  positionKeyId,
  planAllocations,
  RequestIdReusedError,
  resolveSafetyStock,
  type Allocation,
  type LineDemand,
  type PositionKey,
  type Reservation,
  type ReserveCommand,
  type ReserveInput,
} from '@inventory/domain';
import {
  appendOutbox,
  findMissingNodes,
  findSafetyStockOfItems,
  firstAnswers,
  getDistributionGroup,
  holdOnPositions,
  inTransaction,
  insertReservations,
  positionsDueForRecount,
  readPositions,
  recountPositions,
  type Database,
} from '@inventory/store';
import type { Clock } from './clock';
import { Coalescer } from './coalescer';

/** One Reserve call: the checked command and the request as sent (retries must match it). */
interface ReserveCall {
  readonly cmd: ReserveCommand;
  readonly requestHash: string;
}

export interface ReservationSettings {
  readonly defaultTtlMs: number;
  /** Batches of Reserve calls that may run at once in this process. */
  readonly maxBatchesInFlight: number;
  readonly maxBatchSize: number;
}

/** The conditional UPDATE of a position failed: something changed since the batch read it. */
class PositionMoved extends Error {}

/** A position the batch needs recounted before it can decide. */
class RecountNeeded extends Error {
  constructor(readonly positionIds: readonly number[]) {
    super('positions due for a recount');
  }
}

const MAX_ATTEMPTS = 20;

/**
 * Takes reservations. Concurrent Reserve calls are coalesced: one batch reads the positions it needs
 * once, decides every call in arrival order against a running balance (each call all or nothing), writes
 * the reservations, and ends with one conditional UPDATE per position for the batch's total there. If
 * any of those finds less than the batch read (another process took stock meanwhile), the batch rolls
 * back and is decided again from a fresh read. So a call fails with INSUFFICIENT_AVAILABILITY only on
 * what was committed when its batch read, and never is more held than there is.
 */
export class ReservationDesk {
  private readonly batches: Coalescer<ReserveCall, Reservation>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: ReservationSettings,
  ) {
    this.batches = new Coalescer((calls) => this.reserveBatch(calls), settings.maxBatchesInFlight, settings.maxBatchSize);
  }

  async reserve(input: ReserveInput): Promise<Reservation> {
    const cmd = parseReserve(input, this.clock(), this.settings.defaultTtlMs);
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    return this.batches.submit(cmd.reservationId, { cmd, requestHash });
  }

  private async reserveBatch(calls: readonly ReserveCall[]): Promise<Array<Reservation | Error>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.db, (trx) => this.decideAndHold(trx, calls));
      } catch (err) {
        if (err instanceof RecountNeeded && attempt < MAX_ATTEMPTS) {
          await inTransaction(this.db, (trx) => recountPositions({ trx, positionIds: err.positionIds, nowMs: this.clock() }));
        } else if (!(err instanceof PositionMoved) || attempt >= MAX_ATTEMPTS) {
          throw err;
        }
      }
    }
  }

  private async decideAndHold(trx: Knex.Transaction, calls: readonly ReserveCall[]): Promise<Array<Reservation | Error>> {
    const nowMs = this.clock();
    const results: Array<Reservation | Error | undefined> = calls.map(() => undefined);

    // Retries of calls already answered, and ids reused for other content.
    const earlier = await firstAnswers({ db: trx, reservationIds: calls.map((c) => c.cmd.reservationId) });
    calls.forEach((call, i) => {
      const first = earlier.get(call.cmd.reservationId);
      if (first) results[i] = first.requestHash === call.requestHash ? first.answer : new RequestIdReusedError(call.cmd.reservationId, 'Reserve');
    });

    // Where each line may be held.
    const open = calls.map((call, i) => ({ call, i })).filter(({ i }) => results[i] === undefined);
    const candidates = await this.candidateNodes(trx, open.map((o) => o.call.cmd));
    const demands = new Map<number, LineDemand[]>();
    for (const { call, i } of open) {
      const failure = candidates.failureOf(call.cmd);
      if (failure) results[i] = failure;
      else demands.set(i, call.cmd.lines.map((line, lineIndex) => ({ lineIndex, line, quantity: line.quantity, candidateNodes: candidates.nodesOf(line), allowSplit: line.allowSplit })));
    }

    // What each position can still promise, as committed now.
    const keys: PositionKey[] = [...demands.values()].flat().flatMap((d) => d.candidateNodes.map((nodeId) => ({ item: d.line.item, nodeId, segment: d.line.segment })));
    const positions = await readPositions({ db: trx, keys });
    const safety = await findSafetyStockOfItems({ db: trx, items: [...new Map(keys.map((k) => [positionKeyId({ ...k, nodeId: '' }), k.item])).values()] });
    const safetyAt = (k: PositionKey) => (isUnsegmented(k.segment) ? resolveSafetyStock(safety.filter((r) => sameItem(r.item, k.item)), k.nodeId).quantity : 0);
    const stale = [...positions.values()].filter((p) => p.nextEtaMs <= nowMs).map((p) => p.positionId);
    if (stale.length > 0) throw new RecountNeeded(stale);
    const balance = new Map(keys.map((k) => {
      const p = positions.get(positionKeyId(k));
      return [positionKeyId(k), p ? p.supply - p.demand - p.reserved - safetyAt(k) : 0];
    }));

    // Decide each call in arrival order; each takes its units out of the balance.
    const granted: Array<{ i: number; reservation: Reservation; allocations: Allocation[] }> = [];
    const shortPositions = new Set<number>();
    for (const [i, lineDemands] of demands) {
      const cmd = calls[i]!.cmd;
      try {
        const allocations = planAllocations(lineDemands, balance);
        const reservation = reservationOf(cmd, allocations, nowMs);
        granted.push({ i, reservation, allocations });
        results[i] = reservation;
      } catch (err) {
        if (!(err instanceof InsufficientAvailabilityError)) throw err;
        results[i] = err;
        for (const d of lineDemands) for (const nodeId of d.candidateNodes) {
          const p = positions.get(positionKeyId({ item: d.line.item, nodeId, segment: d.line.segment }));
          if (p) shortPositions.add(p.positionId);
        }
      }
    }
    // Before refusing anyone, make sure no expired hold still counts where they fell short.
    const due = await positionsDueForRecount({ db: trx, positionIds: [...shortPositions], nowMs });
    if (due.length > 0) throw new RecountNeeded(due);
    if (granted.length === 0) return results as Array<Reservation | Error>;

    const holds = granted.flatMap(({ i, reservation, allocations }) =>
      allocations.map((a) => {
        const line = calls[i]!.cmd.lines[a.lineIndex]!;
        const key = { item: line.item, nodeId: a.nodeId, segment: line.segment };
        return {
          reservationId: reservation.reservationId,
          lineIndex: a.lineIndex,
          positionId: positions.get(positionKeyId(key))!.positionId,
          nodeId: a.nodeId,
          itemId: line.item.itemId,
          quantity: a.quantity,
          expireMs: reservation.expireMs,
          safetyStock: safetyAt(key),
        };
      }),
    );
    await insertReservations({ trx, reservations: granted.map((g) => ({ reservation: g.reservation, requestHash: calls[g.i]!.requestHash })), holds });
    await appendOutbox({
      trx,
      nowMs,
      events: granted.map((g) => ({ eventType: 'reservation.created', actionId: g.reservation.reservationId, payload: g.reservation })),
    });
    // Last: the check-and-hold, one conditional UPDATE per position for the batch's total there.
    const totals = new Map<number, { positionId: number; quantity: number; safetyStock: number }>();
    for (const h of holds) {
      const t = totals.get(h.positionId) ?? { positionId: h.positionId, quantity: 0, safetyStock: h.safetyStock };
      totals.set(h.positionId, { ...t, quantity: t.quantity + h.quantity });
    }
    const failed = await holdOnPositions({ trx, holds: [...totals.values()], nowMs });
    if (failed.length > 0) throw new PositionMoved();
    return results as Array<Reservation | Error>;
  }

  /** The nodes each line may use, in priority order; and the first unknown node or group of a call. */
  private async candidateNodes(trx: Knex.Transaction, cmds: readonly ReserveCommand[]) {
    const lines = cmds.flatMap((c) => c.lines);
    const nodeIds = [...new Set(lines.flatMap((l) => ('nodeId' in l.location ? [l.location.nodeId] : [])))];
    const groupIds = [...new Set(lines.flatMap((l) => ('distributionGroupId' in l.location ? [l.location.distributionGroupId] : [])))];
    const missingNodes = new Set(await findMissingNodes({ db: trx, nodeIds }));
    const groups = new Map<string, readonly string[]>();
    for (const id of groupIds) {
      const group = await getDistributionGroup({ db: trx, id });
      if (group) groups.set(id, group.nodeIds);
    }
    return {
      nodesOf: (line: ReserveCommand['lines'][number]) =>
        'nodeId' in line.location ? [line.location.nodeId] : (groups.get(line.location.distributionGroupId) ?? []),
      failureOf: (cmd: ReserveCommand): Error | undefined => {
        const missing = cmd.lines.flatMap((l) => ('nodeId' in l.location && missingNodes.has(l.location.nodeId) ? [l.location.nodeId] : []));
        if (missing.length > 0) return new NodeNotFoundError([...new Set(missing)]);
        const group = cmd.lines.find((l) => 'distributionGroupId' in l.location && !groups.has(l.location.distributionGroupId));
        if (group && 'distributionGroupId' in group.location) return new DistributionGroupNotFoundError(group.location.distributionGroupId);
        return undefined;
      },
    };
  }
}

function sameItem(a: PositionKey['item'], b: PositionKey['item']): boolean {
  return a.itemId === b.itemId && a.unitOfMeasure === b.unitOfMeasure && a.productClass === b.productClass;
}

function reservationOf(cmd: ReserveCommand, allocations: readonly Allocation[], nowMs: number): Reservation {
  return {
    reservationId: cmd.reservationId,
    state: effectiveState('ACTIVE', cmd.expireMs, nowMs),
    lines: cmd.lines.map((line, lineIndex) => ({ line, allocations: allocations.filter((a) => a.lineIndex === lineIndex), consumedQuantity: 0 })),
    expireMs: cmd.expireMs,
    createMs: nowMs,
    updateMs: nowMs,
  };
}
