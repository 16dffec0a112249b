import * as pb from '@inventory/contracts';
import type { Clock } from '@inventory/domain';
import { GrpcServer, registration } from '@inventory/grpc-server';
import { StartupError, systemClock, type Logger } from '@inventory/runtime';
import { checkAuditDatabase, migrateAuditToLatest, openDatabase, redact, type Database } from '@inventory/store';
import { SupplyAudit } from './audit/supply-audit';
import type { AuditConfig } from './config';
import { ChangeStreamConsumer } from './consumer/change-stream-consumer';
import { auditAdminServiceHandlers } from './grpc/audit-admin-service';
import { auditServiceHandlers } from './grpc/audit-service';
import { cycleCountServiceHandlers } from './grpc/cycle-count-service';
import { InventoryCounts } from './grpc/inventory-counts';
import { connectInventory } from './grpc/inventory-clients';
import { complianceServiceHandlers } from './grpc/compliance-service';
import { InventoryPlanReader } from './grpc/plan-reader';
import { ComplianceChecks } from './audit/compliance-checks';
import { CycleCounts } from './audit/cycle-counts';

/** The health name that follows the consumer (see audit_admin_service.proto). */
export const CONSUMER_HEALTH_NAME = 'audit.v1.ChangeStreamConsumer';

export interface RunningAuditService {
  readonly port: number;
  readonly db: Database;
  readonly consumer: ChangeStreamConsumer;
  /** Graceful stop: ends the consumer, drains calls in flight, then closes the database pool. */
  stop(): Promise<void>;
}

/** The composition root: opens and migrates the audit database, starts the consumer, listens. */
export async function startAuditService(
  config: AuditConfig,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningAuditService> {
  const db = openDatabase(config.database, {
    poolSize: config.databasePoolSize,
    onDriverMessage: (message) => logger.debug({ driver: message }, 'database driver message'),
  });
  const inventory = connectInventory(config.inventoryAddress, config.reconnectMaxMs);
  try {
    await migrateAuditToLatest(db).catch((err: unknown) => {
      throw new StartupError(
        `cannot open or migrate the database ${redact(config.database.url)}`,
        'AUDIT_DATABASE_URL',
        {
          cause: err,
        },
      );
    });
    logger.info({ database: redact(config.database.url) }, 'database ready');
    const consumer = new ChangeStreamConsumer(
      db,
      inventory.changeStream,
      clock,
      { batchSize: config.batchSize, reconnectMaxMs: config.reconnectMaxMs },
      logger,
    );
    const compliance = new ComplianceChecks(
      db,
      clock,
      new InventoryPlanReader(inventory.rebalance, inventory.plans, inventory.segments),
      config.complianceIntervalMs,
      logger,
    );
    const server = new GrpcServer(
      [
        registration(pb.auditV1.AuditServiceService, auditServiceHandlers(new SupplyAudit(db), logger)),
        registration(
          pb.auditV1.CycleCountServiceService,
          cycleCountServiceHandlers(
            new CycleCounts(
              db,
              clock,
              new InventoryCounts(inventory.nodes, inventory.supply),
              () => consumer.status().state === 'STREAMING',
            ),
            logger,
          ),
        ),
        registration(pb.auditV1.ComplianceServiceService, complianceServiceHandlers(compliance, logger)),
        registration(
          pb.auditV1.AuditAdminServiceService,
          auditAdminServiceHandlers(consumer, config.inventoryAddress, logger),
        ),
      ],
      Buffer.from(pb.descriptorSetBase64, 'base64'),
      logger,
    );
    server.setHealth(CONSUMER_HEALTH_NAME, false);
    const port = await server.listen(config.listenAddress).catch((err: unknown) => {
      throw new StartupError(`cannot listen on ${config.listenAddress}`, 'AUDIT_GRPC_ADDRESS', { cause: err });
    });
    if (config.healthCheckIntervalMs > 0)
      server.followHealthCheck(() => checkAuditDatabase(db), config.healthCheckIntervalMs);
    consumer.start((streaming) => server.setHealth(CONSUMER_HEALTH_NAME, streaming));
    compliance.start();
    logger.info({ inventoryAddress: config.inventoryAddress }, 'consuming the change stream');
    return {
      port,
      db,
      consumer,
      stop: async () => {
        await consumer.stop();
        await compliance.stop();
        await server.shutdown(config.shutdownGraceMs);
        inventory.close();
        await db.knex.destroy();
        logger.info('stopped');
      },
    };
  } catch (err) {
    inventory.close();
    await db.knex.destroy();
    throw err;
  }
}
