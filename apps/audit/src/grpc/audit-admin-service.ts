import * as pb from '@inventory/contracts';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { ChangeStreamConsumer } from '../consumer/change-stream-consumer';

type Server = pb.auditV1.AuditAdminServiceServer;

export function auditAdminServiceHandlers(
  consumer: ChangeStreamConsumer,
  inventoryAddress: string,
  logger: Logger,
): Server {
  return {
    getConsumerStatus: unary('GetConsumerStatus', logger, async () => {
      const s = consumer.status();
      return {
        state: pb.auditV1.ConsumerState[`CONSUMER_STATE_${s.state}`],
        consumedSequence: s.consumedSequence,
        inventoryAddress,
        reconnectAttempts: s.reconnectAttempts,
        lastError: s.lastError,
        lastStoredTime: s.lastStoredMs === null ? undefined : new Date(s.lastStoredMs),
        recordsStored: s.recordsStored,
      };
    }),

    rebuildAudit: unary('RebuildAudit', logger, async (req: pb.auditV1.RebuildAuditRequest) => {
      const result = await consumer.rebuild(req.requestId);
      return { recordsDeleted: result.recordsDeleted, previousConsumedSequence: result.previousSequence };
    }),
  };
}
