import { randomUUID } from 'node:crypto';
import {
  AllocationPlanDisabledError,
  AllocationPlanNotFoundError,
  parsePageSize,
  RebalanceRunNotFoundError,
  requireSegmentTypeId,
  SegmentTypeNotFoundError,
  Violations,
  type Clock,
  type ItemNode,
  type ItemNodeAllocation,
  type RebalanceRun,
  type RebalanceRunState,
  type RebalanceTrigger,
} from '@inventory/domain';
import { PeriodicJob } from '@inventory/jobs';
import type { Logger } from '@inventory/runtime';
import {
  countScopeItemNodes,
  getSegmentType,
  inTransaction,
  insertRebalanceRun,
  listRebalanceRuns,
  listScopeItemNodes,
  mutate,
  readAllocationPlan,
  readRebalanceRun,
  runningRebalanceRuns,
  updateRebalanceRun,
  type AllocationPlanVersion,
  type Database,
  type RebalanceScope,
  decodePageToken,
  page,
} from '@inventory/store';
import type { Knex } from 'knex';
import type { Rebalancer } from './rebalancer';

/** How long one round of the run worker takes pages; well inside its lease (30 s at least). */
const ROUND_BUDGET_MS = 10_000;

/** A scope of at most this many item-nodes is rebalanced inline, in the call's transaction. */
export const INLINE_ITEM_NODES = 100;
const MAX_SCOPE_IDS = 1000;
const MAX_ACTOR_LENGTH = 128;

export interface RebalanceRequest {
  readonly requestId: string;
  readonly segmentType: string;
  readonly itemIds: readonly string[];
  readonly nodeIds: readonly string[];
  readonly dryRun: boolean;
  readonly actor: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface RebalanceAnswer {
  readonly run: RebalanceRun | null;
  readonly itemNodes: ItemNodeAllocation[];
  readonly nextPageToken: string;
}

export interface RebalanceRunsOptions {
  /** Item-nodes per transaction of a background run. */
  readonly pageSize: number;
  /** Pause between rounds of the run worker (0: runs advance only when kicked). */
  readonly intervalMs: number;
}

/**
 * Rebalance runs: a requested rebalance (inline when small, in the background otherwise), its dry run, and the
 * worker that takes RUNNING runs forward page by page on one replica at a time (database lease). Each page is
 * one transaction that also advances the run's cursor, so a run resumes where the last committed page ended.
 */
export class RebalanceRuns {
  private readonly worker: PeriodicJob<number>;
  /** Consecutive failed pages per run: a run whose pages keep failing is marked FAILED. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly rebalancer: Rebalancer,
    private readonly options: RebalanceRunsOptions,
    private readonly logger: Logger,
  ) {
    this.worker = new PeriodicJob({
      name: 'rebalance-runs',
      intervalMs: options.intervalMs,
      db,
      clock,
      logger,
      round: () => this.advanceRunning(),
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Advances the RUNNING runs now (if this replica holds the lease); returns the pages done. */
  advanceOnce(): Promise<number | undefined> {
    return this.worker.runOnce();
  }

  async rebalance(req: RebalanceRequest): Promise<RebalanceAnswer> {
    const size = parseRebalanceRequest(req);
    const scope = { segmentType: req.segmentType, itemIds: req.itemIds, nodeIds: req.nodeIds };
    if (req.dryRun) return this.simulate(scope, size, req.pageToken);
    const answer = await mutate(
      { db: this.db, clock: this.clock, method: 'Rebalance', requestId: req.requestId, request: req },
      async (trx, nowMs) => {
        const plan = await currentPlan(trx, req.segmentType);
        if (!plan.plan.enabled) throw new AllocationPlanDisabledError(req.segmentType, plan.plan.version);
        const run = await startRun(trx, nowMs, scope, plan, 'REQUESTED', req.actor, req.requestId);
        if (run.itemNodesTotal > INLINE_ITEM_NODES) return { run, itemNodes: [], nextPageToken: '' };
        const { run: done, allocations } = await this.advance(trx, nowMs, run, plan, INLINE_ITEM_NODES + 1);
        return { run: done, itemNodes: allocations, nextPageToken: '' };
      },
    );
    if (answer.run?.state === 'RUNNING') void this.advanceOnce().catch(() => undefined);
    return answer;
  }

  async get(runId: string): Promise<RebalanceRun> {
    requireRunId(runId);
    const run = await readRebalanceRun({ db: this.db.knex, runId });
    if (!run) throw new RebalanceRunNotFoundError(runId);
    return run;
  }

  async list(filter: { segmentType: string; state: RebalanceRunState | undefined }, pageSize: number, token: string) {
    const size = parsePageSize(pageSize);
    const filters = `rebalance_runs:${filter.segmentType}:${filter.state ?? ''}`;
    const after = decodePageToken(token, filters, '');
    const rows = await listRebalanceRuns({
      db: this.db.knex,
      segmentType: filter.segmentType || undefined,
      state: filter.state,
      after: after === '' ? null : (JSON.parse(after) as { startMs: number; runId: string }),
      limit: size + 1,
    });
    return page(rows, size, (r) => JSON.stringify({ startMs: r.startMs, runId: r.runId }), filters);
  }

  /** Cancels a RUNNING run: the page in progress (which holds the run's lock) finishes first. */
  async cancel(runId: string): Promise<RebalanceRun> {
    requireRunId(runId);
    return inTransaction(this.db, async (trx) => {
      const run = await readRebalanceRun({ db: trx, runId, lock: true });
      if (!run) throw new RebalanceRunNotFoundError(runId);
      if (run.state !== 'RUNNING') return run;
      const cancelled: RebalanceRun = { ...run, state: 'CANCELLED', finishMs: this.clock() };
      await updateRebalanceRun({ trx, run: cancelled });
      return cancelled;
    });
  }

  /**
   * Starts a run of the service's own (scheduled or system-detected) in the caller's transaction, for the
   * worker to take forward; returns it.
   */
  async startSystemRun(
    trx: Knex.Transaction,
    nowMs: number,
    scope: RebalanceScope,
    trigger: Exclude<RebalanceTrigger, 'REQUESTED'>,
    actor: string,
  ): Promise<RebalanceRun> {
    const plan = await currentPlan(trx, scope.segmentType);
    return startRun(trx, nowMs, scope, plan, trigger, actor, '');
  }

  private async simulate(scope: RebalanceScope, pageSize: number, token: string): Promise<RebalanceAnswer> {
    const filters = `rebalance:${JSON.stringify(scope)}`;
    const after = decodePageToken(token, filters, '');
    const db = this.db.knex;
    const plan = await currentPlan(db, scope.segmentType);
    const itemNodes = await listScopeItemNodes({
      db,
      scope,
      after: after === '' ? null : (JSON.parse(after) as ItemNode),
      limit: pageSize + 1,
    });
    const paged = page(itemNodes, pageSize, (n) => JSON.stringify(n), filters);
    const allocations = await this.rebalancer.simulate(db, this.clock(), plan.plan, paged.items);
    return { run: null, itemNodes: allocations, nextPageToken: paged.nextPageToken };
  }

  /**
   * One page of a run in the caller's transaction: the next item-nodes after its cursor, rebalanced, and the
   * run's progress; a page shorter than asked ends the run.
   */
  private async advance(
    trx: Knex.Transaction,
    nowMs: number,
    run: RebalanceRun,
    plan: AllocationPlanVersion,
    pageSize: number,
  ): Promise<{ run: RebalanceRun; allocations: ItemNodeAllocation[] }> {
    const scope = { segmentType: run.segmentType, itemIds: run.itemIds, nodeIds: run.nodeIds };
    const itemNodes = await listScopeItemNodes({ db: trx, scope, after: run.cursor, limit: pageSize });
    const done = await this.rebalancer.apply(
      trx,
      nowMs,
      plan.plan,
      itemNodes,
      run.trigger === 'REQUESTED'
        ? { actionId: randomUUID(), requestId: run.requestId, relatedActionId: run.runId, actor: run.actor }
        : { actionId: randomUUID(), requestId: '', relatedActionId: run.runId, systemActor: run.actor },
      'SEGMENT_REALLOCATION',
    );
    const finished = itemNodes.length < pageSize;
    const advanced: RebalanceRun = {
      ...run,
      state: finished ? 'SUCCEEDED' : 'RUNNING',
      itemNodesDone: run.itemNodesDone + itemNodes.length,
      itemNodesChanged: run.itemNodesChanged + done.itemNodesChanged,
      moves: run.moves + done.moves,
      unitsMoved: run.unitsMoved + done.unitsMoved,
      cursor: itemNodes.at(-1) ?? run.cursor,
      finishMs: finished ? nowMs : null,
    };
    await updateRebalanceRun({ trx, run: advanced });
    return { run: advanced, allocations: done.allocations };
  }

  /**
   * The worker's round: every RUNNING run, oldest first, page by page to its end. A round that has worked for
   * ROUND_BUDGET_MS queues the next one and ends, so that the lease, renewed at the start of each round, never
   * runs out under a long run (another replica would take it and the two would take turns on the run's pages).
   */
  private async advanceRunning(): Promise<number> {
    const deadline = performance.now() + ROUND_BUDGET_MS;
    let pages = 0;
    for (const runId of await runningRebalanceRuns({ db: this.db.knex })) {
      for (;;) {
        if (performance.now() > deadline) {
          void this.advanceOnce().catch((err: unknown) => this.logger.error({ err }, 'rebalance run worker failed'));
          return pages;
        }
        let state: RebalanceRunState;
        try {
          state = await inTransaction(this.db, async (trx) => {
            const run = await readRebalanceRun({ db: trx, runId, lock: true });
            if (!run || run.state !== 'RUNNING') return run?.state ?? 'CANCELLED';
            const plan = await readAllocationPlan({ db: trx, segmentType: run.segmentType, version: run.planVersion });
            if (!plan) throw new AllocationPlanNotFoundError(run.segmentType, run.planVersion);
            return (await this.advance(trx, this.clock(), run, plan, this.options.pageSize)).run.state;
          });
          this.failures.delete(runId);
        } catch (err) {
          await this.pageFailed(runId, err);
          break;
        }
        pages++;
        if (state !== 'RUNNING') break;
      }
    }
    return pages;
  }

  /** A failed page is retried at the next round; the third failure in a row ends the run FAILED. */
  private async pageFailed(runId: string, err: unknown): Promise<void> {
    const failures = (this.failures.get(runId) ?? 0) + 1;
    this.logger.error({ err, runId, failures }, 'rebalance run page failed');
    if (failures < 3) {
      this.failures.set(runId, failures);
      return;
    }
    this.failures.delete(runId);
    await inTransaction(this.db, async (trx) => {
      const run = await readRebalanceRun({ db: trx, runId, lock: true });
      if (run?.state === 'RUNNING')
        await updateRebalanceRun({
          trx,
          run: {
            ...run,
            state: 'FAILED',
            finishMs: this.clock(),
            error: err instanceof Error ? err.message : String(err),
          },
        });
    });
  }
}

async function startRun(
  trx: Knex.Transaction,
  nowMs: number,
  scope: RebalanceScope,
  plan: AllocationPlanVersion,
  trigger: RebalanceTrigger,
  actor: string,
  requestId: string,
): Promise<RebalanceRun> {
  const run: RebalanceRun = {
    runId: randomUUID(),
    segmentType: scope.segmentType,
    itemIds: [...scope.itemIds],
    nodeIds: [...scope.nodeIds],
    trigger,
    state: 'RUNNING',
    planVersion: plan.plan.version,
    itemNodesTotal: await countScopeItemNodes({ db: trx, scope }),
    itemNodesDone: 0,
    itemNodesChanged: 0,
    moves: 0,
    unitsMoved: 0,
    cursor: null,
    startMs: nowMs,
    finishMs: null,
    error: null,
    actor,
    requestId,
  };
  await insertRebalanceRun({ trx, run });
  return run;
}

/** The segment type's current plan: NOT_FOUND if the type or its plan does not exist. */
async function currentPlan(db: Knex, segmentType: string): Promise<AllocationPlanVersion> {
  const plan = await readAllocationPlan({ db, segmentType });
  if (plan) return plan;
  if (!(await getSegmentType({ db, segmentType }))) throw new SegmentTypeNotFoundError(segmentType);
  throw new AllocationPlanNotFoundError(segmentType, 0);
}

/** Checks a Rebalance request; returns the dry run's page size. */
function parseRebalanceRequest(req: RebalanceRequest): number {
  const v = new Violations();
  if (!req.dryRun) v.requestId('request_id', req.requestId);
  requireSegmentTypeId('segment_type', req.segmentType);
  scopeIds(v, 'item_ids', req.itemIds, (field, id) => v.text(field, id, 64, true));
  scopeIds(v, 'node_ids', req.nodeIds, (field, id) => v.id(field, id));
  v.text('actor', req.actor, MAX_ACTOR_LENGTH);
  if (!req.dryRun && req.pageToken !== '') v.add('page_token', 'is only for a dry run');
  if (!Number.isInteger(req.pageSize) || req.pageSize < 0 || req.pageSize > 1000)
    v.add('page_size', 'must be between 0 and 1000');
  v.throwIfAny();
  return parsePageSize(req.pageSize);
}

function scopeIds(v: Violations, field: string, ids: readonly string[], check: (field: string, id: string) => void) {
  if (ids.length > MAX_SCOPE_IDS) v.add(field, `must have at most ${MAX_SCOPE_IDS} ids`);
  else ids.forEach((id, i) => check(`${field}[${i}]`, id));
}

function requireRunId(runId: string): void {
  const v = new Violations();
  v.text('run_id', runId, 64, true);
  v.throwIfAny();
}
