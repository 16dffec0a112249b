import * as pb from '@inventory/contracts';
import { GrpcServer, registration } from '@inventory/grpc-server';
import { StartupError, systemClock, type Logger } from '@inventory/runtime';
import { checkDatabase, migrateToLatest, openDatabase, redact, type Database } from '@inventory/store';
import type { AllocationConfig } from './config';
import { allocationPlanServiceHandlers } from './grpc/allocation-plan-service';
import { availabilityServiceHandlers } from './grpc/availability-service';
import { changeStreamServiceHandlers } from './grpc/change-stream-service';
import { consumptionRuleServiceHandlers } from './grpc/consumption-rule-service';
import { nodeServiceHandlers } from './grpc/node-service';
import { safetyStockServiceHandlers } from './grpc/safety-stock-service';
import { demandServiceHandlers } from './grpc/demand-service';
import { rebalanceServiceHandlers } from './grpc/rebalance-service';
import { reservationServiceHandlers } from './grpc/reservation-service';
import { segmentServiceHandlers } from './grpc/segment-service';
import { supplyServiceHandlers } from './grpc/supply-service';
import { AvailabilityReader } from './inventory/availability-reader';
import { AvailabilityWatches } from './inventory/availability-watches';
import { ChangeStream } from './inventory/change-stream';
import type { Clock } from '@inventory/domain';
import { NodeCatalog } from './inventory/node-catalog';
import { ConsumptionRuleBook } from './inventory/consumption-rule-book';
import { AllocationPlanBook } from './inventory/allocation-plan-book';
import { SafetyStockRules } from './inventory/safety-stock-rules';
import { ExpirySweeper } from './inventory/expiry-sweeper';
import { SupplySync } from './inventory/physical-totals';
import { demandLedger, supplyLedger } from './inventory/quantity-ledger';
import { RebalanceDetector } from './inventory/rebalance-detector';
import { RebalanceRuns } from './inventory/rebalance-runs';
import { RebalanceScheduler } from './inventory/rebalance-scheduler';
import { Rebalancer } from './inventory/rebalancer';
import { ReservationChanges } from './inventory/reservation-changes';
import { ReservationDesk } from './inventory/reservation-desk';
import { SegmentCatalog } from './inventory/segment-catalog';
import { StreamRetention } from './inventory/stream-retention';
import { StreamSequencer } from './inventory/stream-sequencer';

export interface RunningService {
  readonly port: number;
  readonly db: Database;
  /** Releases expired reservations now (if this replica holds the sweeper lease). */
  readonly sweeper: ExpirySweeper;
  /** Takes RUNNING rebalance runs forward now (if this replica holds the rebalance lease). */
  readonly rebalanceRuns: RebalanceRuns;
  /** Starts the scheduled rebalance runs due now (if this replica holds the scheduler lease). */
  readonly rebalanceScheduler: RebalanceScheduler;
  /** Reads the change stream for system-detected triggers now (if this replica holds the detector lease). */
  readonly rebalanceDetector: RebalanceDetector;
  /** Stamps committed events with their change stream positions now (if this replica holds the sequencer lease). */
  readonly streamSequencer: StreamSequencer;
  /** Trims the change stream past its retention now (if this replica holds the retention lease). */
  readonly streamRetention: StreamRetention;
  /** Graceful stop: drains calls in flight, then closes the database pool. */
  stop(): Promise<void>;
}

/** The composition root: opens and migrates the database, wires the services, listens. */
export async function startAllocationService(
  config: AllocationConfig,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningService> {
  const db = openDatabase(config.database, {
    poolSize: config.databasePoolSize,
    // The calls these affect fail with DATABASE_UNAVAILABLE and are logged there.
    onDriverMessage: (message) => logger.debug({ driver: message }, 'database driver message'),
  });
  try {
    await migrateToLatest(db).catch((err: unknown) => {
      throw new StartupError(
        `cannot open or migrate the database ${redact(config.database.url)}`,
        'INVENTORY_DATABASE_URL',
        { cause: err },
      );
    });
    logger.info({ database: redact(config.database.url) }, 'database ready');
    const nodes = new NodeCatalog(db, clock);
    const demand = demandLedger(db, nodes, clock);
    const changes = new ReservationChanges(db, clock, demand);
    // One batch in flight: the next one gathers every call that arrives meanwhile. With two or three in
    // flight the benchmark measured the same throughput and a worse p99 (BENCHMARKS.md).
    const desk = new ReservationDesk(db, clock, {
      defaultTtlMs: config.reservationTtlMs,
      maxBatchesInFlight: 1,
      maxBatchLines: 1000,
    });
    const sourceTimeLimit = () => ({ nowMs: clock(), maxSkewMs: config.maxSourceTimeSkewMs });
    const sweeper = new ExpirySweeper(db, clock, changes, config.expirySweepIntervalMs, logger);
    const supply = supplyLedger(db, nodes, clock);
    const rebalancer = new Rebalancer(supply);
    const rebalanceRuns = new RebalanceRuns(
      db,
      clock,
      rebalancer,
      { pageSize: config.rebalancePageSize, intervalMs: config.rebalanceIntervalMs },
      logger,
    );
    const rebalanceScheduler = new RebalanceScheduler(
      db,
      clock,
      rebalanceRuns,
      config.rebalanceSchedulerIntervalMs,
      logger,
    );
    const rebalanceDetector = new RebalanceDetector(
      db,
      clock,
      rebalancer,
      rebalanceRuns,
      { intervalMs: config.rebalanceDetectorIntervalMs, debounceMs: config.rebalanceTriggerDebounceMs },
      logger,
    );
    const streamSequencer = new StreamSequencer(db, clock, config.streamSequencerIntervalMs, logger);
    const streamRetention = new StreamRetention(
      db,
      clock,
      { intervalMs: config.streamRetentionSweepIntervalMs, retentionMs: config.streamRetentionMs },
      logger,
    );
    const changeStream = new ChangeStream(db, config.streamPollIntervalMs, streamSequencer.stamped);
    const watches = new AvailabilityWatches(
      db,
      nodes,
      streamSequencer.stamped,
      {
        pollIntervalMs: config.streamPollIntervalMs,
        maxPerConnection: config.watchMaxPerConnection,
        maxTotal: config.watchMaxTotal,
        bufferPositions: config.watchBufferPositions,
      },
      logger,
    );
    const server = new GrpcServer(
      [
        registration(pb.NodeServiceService, nodeServiceHandlers(nodes, logger)),
        registration(
          pb.SafetyStockServiceService,
          safetyStockServiceHandlers(new SafetyStockRules(db, nodes, clock), logger),
        ),
        registration(
          pb.SupplyServiceService,
          supplyServiceHandlers(supply, new SupplySync(supply, rebalancer), sourceTimeLimit, logger),
        ),
        registration(pb.DemandServiceService, demandServiceHandlers(demand, sourceTimeLimit, logger)),
        registration(pb.ReservationServiceService, reservationServiceHandlers(desk, changes, logger)),
        registration(
          pb.AvailabilityServiceService,
          availabilityServiceHandlers(new AvailabilityReader(db, nodes, clock), watches, logger),
        ),
        registration(
          pb.ConsumptionRuleServiceService,
          consumptionRuleServiceHandlers(new ConsumptionRuleBook(db, clock), logger),
        ),
        registration(pb.SegmentServiceService, segmentServiceHandlers(new SegmentCatalog(db, clock), logger)),
        registration(
          pb.AllocationPlanServiceService,
          allocationPlanServiceHandlers(new AllocationPlanBook(db, clock), logger),
        ),
        registration(pb.RebalanceServiceService, rebalanceServiceHandlers(rebalanceRuns, logger)),
        registration(pb.ChangeStreamServiceService, changeStreamServiceHandlers(changeStream, logger)),
      ],
      Buffer.from(pb.descriptorSetBase64, 'base64'),
      logger,
      { timeMs: config.keepaliveTimeMs, timeoutMs: config.keepaliveTimeoutMs },
    );
    const port = await server.listen(config.listenAddress).catch((err: unknown) => {
      throw new StartupError(`cannot listen on ${config.listenAddress}`, 'INVENTORY_GRPC_ADDRESS', { cause: err });
    });
    // Calls already answer UNAVAILABLE when the database is gone; health says so too, for load balancers
    // and orchestrators that route by it.
    if (config.healthCheckIntervalMs > 0)
      server.followHealthCheck(() => checkDatabase(db), config.healthCheckIntervalMs);
    sweeper.start();
    rebalanceRuns.start();
    rebalanceScheduler.start();
    rebalanceDetector.start();
    streamSequencer.start();
    streamRetention.start();
    return {
      port,
      db,
      sweeper,
      rebalanceRuns,
      rebalanceScheduler,
      rebalanceDetector,
      streamSequencer,
      streamRetention,
      stop: async () => {
        // Subscriptions never end on their own: they end first, so that the shutdown does not wait for them.
        changeStream.stop();
        watches.stop();
        await server.shutdown(config.shutdownGraceMs);
        await sweeper.stop();
        // The scheduler and the detector kick the run worker: they stop first.
        await rebalanceScheduler.stop();
        await rebalanceDetector.stop();
        await rebalanceRuns.stop();
        await streamSequencer.stop();
        await streamRetention.stop();
        await db.knex.destroy();
        logger.info('stopped');
      },
    };
  } catch (err) {
    await db.knex.destroy();
    throw err;
  }
}
