import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import {
  DistributionGroupNotFoundError,
  candidatePositions,
  InsufficientAvailabilityError,
  NodeNotFoundError,
  parseReserve,
  planAllocations,
  positionKeyId,
  positionKeyOfId,
  RequestIdReusedError,
  sameItemNode,
  SegmentNotDefinedError,
  isUnsegmented,
  type Segment,
  reserve,
  StockBalance,
  type Allocation,
  type LineDemand,
  type PositionKey,
  type Reservation,
  type ReserveCommand,
  type ReserveInput,
  type Clock,
} from '@inventory/domain';
import {
  consumptionRulesOf,
  consumptionRulesQuery,
  ensurePositions,
  findMissingNodes,
  firstAnswersOf,
  firstAnswersQuery,
  getDistributionGroup,
  holdStatements,
  inTransaction,
  isRefusedHold,
  lockPositionsQueries,
  outboxInserts,
  pipelinedTransaction,
  positionsByKey,
  positionsDueForRecount,
  positionsQueries,
  segmentsByKey,
  segmentsQuery,
  reservationInserts,
  type Database,
  type PipelinedTransaction,
} from '@inventory/store';
import { reserveBatchEvents } from '../events/reservation-events';
import { Coalescer } from './coalescer';
import { holdCheckOf, holdOf } from './holds';
import { recountAndSettle } from './loans';
import { heldPositions } from '../events/position-events';
import { requireFound } from './segment-catalog';

/** One Reserve call: the checked command and the request as sent (retries must match it). */
interface ReserveCall {
  readonly cmd: ReserveCommand;
  readonly requestHash: string;
}

export interface ReservationSettings {
  readonly defaultTtlMs: number;
  /** Batches of Reserve calls that may run at once in this process. */
  readonly maxBatchesInFlight: number;
  /** Most reservation lines in one batch. */
  readonly maxBatchLines: number;
}

/** A position the batch needs recounted before it can decide. */
class RecountNeeded extends Error {
  constructor(readonly positionIds: readonly number[]) {
    super('positions due for a recount');
  }
}

/** Positions the batch would hold at (a segment borrowing where it has no position yet) that must be made first. */
class PositionsNeeded extends Error {
  constructor(readonly keys: readonly PositionKey[]) {
    super('positions to create');
  }
}

const MAX_ATTEMPTS = 20;
/**
 * Refused holds after which a batch locks its positions as it reads them. Optimistic batches can be
 * overtaken again and again while other writers (other replicas' batches, rebalances that lock the
 * positions for a whole transaction) keep changing them; a locking read waits its turn and then holds.
 */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Takes reservations. Concurrent Reserve calls are coalesced: one batch reads the positions it needs
 * once, decides every call in arrival order against a running balance (each call all or nothing), writes
 * the reservations, and ends with one check-and-hold UPDATE per position for the batch's total there,
 * right before the commit. If a position has less than the batch read (another process took stock
 * meanwhile), its UPDATE refuses, nothing commits, and the batch is decided again from a fresh read. So a
 * call fails with INSUFFICIENT_AVAILABILITY only on what was committed when its batch read, and never is
 * more held than there is.
 */
export class ReservationDesk {
  private readonly batches: Coalescer<ReserveCall, Reservation>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: ReservationSettings,
  ) {
    this.batches = new Coalescer(
      (calls) => this.reserveBatch(calls),
      settings.maxBatchesInFlight,
      settings.maxBatchLines,
      (call) => call.cmd.lines.length,
    );
  }

  async reserve(input: ReserveInput): Promise<Reservation> {
    const cmd = parseReserve(input, this.clock(), this.settings.defaultTtlMs);
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    return this.batches.submit(cmd.reservationId, { cmd, requestHash });
  }

  private async reserveBatch(calls: readonly ReserveCall[]): Promise<Array<Reservation | Error>> {
    let refused = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const lock = refused >= OPTIMISTIC_ATTEMPTS;
        return await pipelinedTransaction(this.db, (tx) => this.decideAndHold(tx, calls, lock));
      } catch (err) {
        if (isRefusedHold(err) && attempt < MAX_ATTEMPTS) {
          refused++; // another transaction took stock after the read
          continue;
        }
        if (err instanceof RecountNeeded && attempt < MAX_ATTEMPTS) {
          await inTransaction(this.db, (trx) => recountAndSettle(trx, err.positionIds, this.clock()));
        } else if (err instanceof PositionsNeeded && attempt < MAX_ATTEMPTS) {
          await inTransaction(this.db, (trx) => ensurePositions({ trx, keys: err.keys }));
        } else {
          throw err;
        }
      }
    }
  }

  /**
   * One batch in two round trips on MySQL: one read (earlier answers, positions and their safety stock),
   * and one write that ends with the check-and-hold UPDATEs (in position order) and the COMMIT. If a
   * position refuses, the write fails, nothing commits, and the batch is decided again from a fresh read.
   * With `lock`, the read locks the positions first, so that nothing changes them before the write.
   */
  private async decideAndHold(
    tx: PipelinedTransaction,
    calls: readonly ReserveCall[],
    lock: boolean,
  ): Promise<Array<Reservation | Error>> {
    const trx = tx.db;
    const nowMs = this.clock();
    const results: Array<Reservation | Error | undefined> = calls.map(() => undefined);
    const candidates = await this.candidateNodes(
      trx,
      calls.map((c) => c.cmd),
    );
    const demands = calls.map((call) =>
      call.cmd.lines.map((line, lineIndex): LineDemand => ({
        lineIndex,
        line,
        quantity: line.quantity,
        candidateNodes: candidates.nodesOf(line),
        allowSplit: line.allowSplit,
      })),
    );
    const keys = candidatePositions(demands.flat());
    const segmentsNamed = calls.flatMap((c) => c.cmd.lines.map((l) => l.segment)).filter((s) => !isUnsegmented(s));
    const locks = lock ? lockPositionsQueries(trx, keys) : [];
    const [answerRows, rulesRows, ...rest] = (await tx.run([
      {
        select: firstAnswersQuery(
          trx,
          calls.map((c) => c.cmd.reservationId),
        ),
      },
      { select: consumptionRulesQuery(trx) },
      // Share-locked, so that a RetireSegment waits for this batch and then sees what it holds.
      ...(segmentsNamed.length > 0 ? [{ select: segmentsQuery(trx, segmentsNamed, true) }] : []),
      ...locks.map((select) => ({ select })),
      ...positionsQueries(trx, keys).map((select) => ({ select })),
    ])) as Array<Array<Record<string, unknown>>>;
    const rules = consumptionRulesOf(rulesRows ?? []);
    const segments = segmentsByKey(segmentsNamed.length > 0 ? (rest[0] ?? []) : []);
    const positionRows = rest.slice((segmentsNamed.length > 0 ? 1 : 0) + locks.length);
    const positions = positionsByKey(positionRows.flat());
    const positionAt = (k: PositionKey) => positions.get(positionKeyId(k));
    const stale = [...positions.values()].filter((p) => p.nextEtaMs <= nowMs).map((p) => p.positionId);
    if (stale.length > 0) throw new RecountNeeded(stale);

    // Retries of calls already answered, and ids reused for other content.
    const earlier = firstAnswersOf(answerRows ?? []);
    calls.forEach((call, i) => {
      const first = earlier.get(call.cmd.reservationId);
      if (first)
        results[i] =
          first.requestHash === call.requestHash
            ? first.answer
            : new RequestIdReusedError(call.cmd.reservationId, 'Reserve');
    });
    // A node can only be unknown where no position exists (positions are only made for known nodes).
    await candidates.checkNodes(keys.filter((k) => !positionAt(k)).map((k) => k.nodeId));

    // Decide each call in arrival order; each takes its units out of the balance.
    const balance = StockBalance.of(keys, positions, rules);
    const granted: Array<{ call: ReserveCall; reservation: Reservation; allocations: Allocation[] }> = [];
    const shortPositions = new Set<number>();
    calls.forEach((call, i) => {
      if (results[i]) return;
      const failure = segmentFailureOf(call.cmd, segments) ?? candidates.failureOf(call.cmd);
      if (failure) return void (results[i] = failure);
      try {
        const allocations = planAllocations(demands[i]!, balance);
        results[i] = reserve(call.cmd, allocations, nowMs).reservation;
        granted.push({ call, reservation: results[i] as Reservation, allocations });
      } catch (err) {
        if (!(err instanceof InsufficientAvailabilityError)) throw err;
        results[i] = err;
        // Every position there: a loan another segment owes the pool may have shrunk since it was settled.
        for (const k of candidatePositions(demands[i]!))
          for (const [id, p] of positions) if (sameItemNode(positionKeyOfId(id), k)) shortPositions.add(p.positionId);
      }
    });
    // Before refusing anyone, make sure no expired hold still counts where they fell short.
    const due = await positionsDueForRecount({ db: trx, positionIds: [...shortPositions], nowMs });
    if (due.length > 0) throw new RecountNeeded(due);
    if (granted.length === 0) return results as Array<Reservation | Error>;

    const missing = granted
      .flatMap(({ reservation }) => heldPositions(reservation.lines))
      .filter((k) => !positionAt(k));
    if (missing.length > 0) throw new PositionsNeeded(missing);
    const holds = granted.flatMap(({ reservation, allocations, call }) =>
      allocations.map((a) => {
        const line = call.cmd.lines[a.lineIndex]!;
        const position = positionAt({ item: line.item, nodeId: a.nodeId, segment: line.segment })!;
        return { ...holdOf(reservation, line, a, position), readTotals: position };
      }),
    );
    // What segments borrow beyond their own, on their positions and on the pool's (which lends it).
    const loans = balance.loanChanges().map(({ key, delta }) => {
      const position = positionAt(key)!;
      return { ...holdCheckOf(key, position), loan: delta, readTotals: position };
    });
    await tx.commitWith([
      ...reservationInserts(
        trx,
        granted.map((g) => ({ reservation: g.reservation, requestHash: g.call.requestHash })),
        holds,
      ).map((insert) => ({ insert })),
      ...outboxInserts(trx, reserveBatchEvents(granted, balance, rules.version, nowMs)).map((insert) => ({ insert })),
      // Last: the check-and-hold of the batch's total at each position, refused if the position moved
      // since the batch read it, so that the events above announce exactly what the commit leaves.
      ...holdStatements(trx, [...holds, ...loans], nowMs).map((update) => ({ update })),
    ]);
    return results as Array<Reservation | Error>;
  }

  /**
   * The nodes each line may use, in priority order (reading the groups the batch names), and a check of
   * nodes that have no position yet: after it, `failureOf` names a call's first unknown node or group.
   */
  private async candidateNodes(trx: Knex, cmds: readonly ReserveCommand[]) {
    const groupIds = [
      ...new Set(
        cmds.flatMap((c) =>
          c.lines.flatMap((l) => ('distributionGroupId' in l.location ? [l.location.distributionGroupId] : [])),
        ),
      ),
    ];
    const groups = new Map<string, readonly string[]>();
    for (const id of groupIds) {
      const group = await getDistributionGroup({ db: trx, id });
      if (group) groups.set(id, group.nodeIds);
    }
    const missingNodes = new Set<string>();
    return {
      nodesOf: (line: ReserveCommand['lines'][number]) =>
        'nodeId' in line.location ? [line.location.nodeId] : (groups.get(line.location.distributionGroupId) ?? []),
      checkNodes: async (nodeIds: readonly string[]) => {
        if (nodeIds.length > 0)
          for (const id of await findMissingNodes({ db: trx, nodeIds: [...new Set(nodeIds)] })) missingNodes.add(id);
      },
      failureOf: (cmd: ReserveCommand): Error | undefined => {
        const missing = cmd.lines.flatMap((l) =>
          'nodeId' in l.location && missingNodes.has(l.location.nodeId) ? [l.location.nodeId] : [],
        );
        if (missing.length > 0) return new NodeNotFoundError([...new Set(missing)]);
        const group = cmd.lines.find(
          (l) => 'distributionGroupId' in l.location && !groups.has(l.location.distributionGroupId),
        );
        if (group && 'distributionGroupId' in group.location)
          return new DistributionGroupNotFoundError(group.location.distributionGroupId);
        return undefined;
      },
    };
  }
}

/** Why a call cannot be held because of a segment it names (undefined or retired), if it cannot. */
function segmentFailureOf(cmd: ReserveCommand, segments: ReadonlyMap<string, Segment>): Error | undefined {
  try {
    requireFound(
      cmd.lines.map((line, i) => [`lines[${i}].segment`, line.segment]),
      segments,
    );
    return undefined;
  } catch (err) {
    if (err instanceof SegmentNotDefinedError) return err;
    throw err;
  }
}
