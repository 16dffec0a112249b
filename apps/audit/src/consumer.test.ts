import { credentials } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { promisify } from '@inventory/grpc-server/testing';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '@inventory/store/testing';
import { CONSUMER_HEALTH_NAME } from './audit-service';
import {
  AllocationApp,
  AppProcess,
  auditEnv,
  caughtUp,
  connectAudit,
  startAudit,
  startAuditOn,
  waitFor,
} from './testing/harness';

const { CONSUMER_STATE_STREAMING, CONSUMER_STATE_RECONNECTING, CONSUMER_STATE_BEHIND_RETENTION } =
  pb.auditV1.ConsumerState;
const key = (itemId: string): pb.SupplyKey => ({
  item: { itemId, unitOfMeasure: 'EA', productClass: '' },
  nodeId: 'DC1',
  segment: { segmentType: '', segment: '' },
  supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
  etaTime: undefined,
});

/** Adjusts `lines` positions by 1 each in one request: `lines` supply events. */
function adjust(app: AllocationApp, requestId: string, lines: number, prefix = 'ITEM'): Promise<unknown> {
  return app.clients.supply.adjustSupply({
    requestId,
    lines: Array.from({ length: lines }, (_, n) => ({
      key: key(`${prefix}-${n}`),
      quantityDelta: 1,
      sourceTime: new Date(),
      reason: '',
    })),
  });
}

/** The audit's records: how many, how many distinct sequences and event ids, and the sequences. */
async function storedRecords(db: TestDatabase) {
  const rows = (await db.db.knex('audit_supply_records').select('sequence', 'event_id')) as Array<{
    sequence: number | string;
    event_id: string;
  }>;
  const sequences = rows.map((r) => Number(r.sequence)).sort((a, b) => a - b);
  return { count: rows.length, sequences, eventIds: new Set(rows.map((r) => r.event_id)).size };
}

/** The stream positions of the allocation app's supply events. */
async function supplySequences(app: AllocationApp): Promise<number[]> {
  await app.lastSupplySequence();
  const rows = (await app.database.db
    .knex('outbox')
    .whereIn('event_type', ['supply_changed', 'supply_ignored'])
    .select('stream_sequence')) as Array<{ stream_sequence: number | string }>;
  return rows.map((r) => Number(r.stream_sequence)).sort((a, b) => a - b);
}

describeEachDatabase('change stream consumer', (dialect) => {
  it('reconnects with backoff while the allocation app is away, saying so in health, and resumes where it stopped', async () => {
    const app = await AllocationApp.start(dialect);
    const audit = await startAudit(dialect, app.address);
    const health = new pb.healthV1.HealthClient(`127.0.0.1:${audit.service.port}`, credentials.createInsecure());
    const check = () => promisify(health).check({ service: CONSUMER_HEALTH_NAME });
    try {
      await app.define(['DC1']);
      await adjust(app, 'before', 10);
      await caughtUp(app, audit.clients);
      expect((await check()).status).toBe(pb.healthV1.HealthCheckResponse_ServingStatus.SERVING);

      await app.stopProcess();
      const away = await waitFor(async () => {
        const s = await audit.clients.admin.getConsumerStatus({});
        return s.state === CONSUMER_STATE_RECONNECTING && s.reconnectAttempts >= 2 ? s : undefined;
      });
      expect(away.lastError).not.toBe('');
      expect(away.inventoryAddress).toBe(app.address);
      expect((await check()).status).toBe(pb.healthV1.HealthCheckResponse_ServingStatus.NOT_SERVING);
      // The stored records are still served.
      expect(
        (await audit.clients.audit.listSupplyAudit(pb.auditV1.ListSupplyAuditRequest.fromPartial({}))).records,
      ).toHaveLength(10);

      await app.restart();
      // The test's own channel may still be backing off from the outage: the request is retried (it is idempotent).
      await waitFor(() =>
        adjust(app, 'after', 5, 'LATER').then(
          () => true,
          () => undefined,
        ),
      );
      await caughtUp(app, audit.clients);
      const back = await audit.clients.admin.getConsumerStatus({});
      expect(back).toMatchObject({ state: CONSUMER_STATE_STREAMING, reconnectAttempts: 0, lastError: '' });
      expect((await check()).status).toBe(pb.healthV1.HealthCheckResponse_ServingStatus.SERVING);
      const stored = await storedRecords(audit.database);
      expect(stored.sequences).toEqual(await supplySequences(app));
    } finally {
      health.close();
      await audit.stop();
      await app.stop();
    }
  });

  it('killed with SIGKILL in the middle of a burst of 10,000 changes, it resumes with exactly one record per change', async () => {
    const app = await AllocationApp.start(dialect);
    const auditDb = await createTestDatabase(dialect);
    const env = { ...auditEnv(auditDb, app.address), AUDIT_BATCH_SIZE: '200' };
    let auditProcess = new AppProcess('audit', env);
    try {
      await app.define(['DC1']);
      await auditProcess.port();
      const requests = 20;
      const burst = (async () => {
        for (let n = 0; n < requests; n++) await adjust(app, `burst-${n}`, 500);
      })();
      // Killed once it has stored some of the burst, while the burst goes on.
      const storedAtKill = await waitFor(async () => {
        const { count } = await storedRecords(auditDb);
        return count >= 2000 ? count : undefined;
      });
      await auditProcess.stop('SIGKILL');
      await burst;
      expect(storedAtKill).toBeLessThan(requests * 500);

      auditProcess = new AppProcess('audit', env);
      const port = await auditProcess.port();
      const clients = connectAudit(`127.0.0.1:${port}`);
      try {
        await caughtUp(app, clients);
      } finally {
        clients.close();
      }
      const stored = await storedRecords(auditDb);
      expect(stored.count).toBe(requests * 500);
      expect(stored.eventIds).toBe(requests * 500);
      expect(stored.sequences).toEqual(await supplySequences(app));
    } finally {
      await auditProcess.stop();
      await auditDb.drop();
      await app.stop();
    }
  });

  it('stops behind retention rather than skip events, and a rebuild consumes what the stream still holds', async () => {
    const app = await AllocationApp.start(dialect);
    const audit = await startAudit(dialect, app.address);
    try {
      await app.define(['DC1']);
      await adjust(app, 'first', 5);
      await caughtUp(app, audit.clients);
      await audit.service.consumer.stop();
      await adjust(app, 'missed', 5, 'MISSED');
      await adjust(app, 'kept', 5, 'KEPT');
      // Retention trims the oldest events, among them the five the audit has not stored.
      const kept = await supplySequences(app);
      const firstKept = kept[kept.length - 5] as number;
      await app.database.db.knex('outbox').where('stream_sequence', '<', firstKept).delete();

      // A consumer started again over the same records finds the gap.
      const restarted = await startAuditOn(audit.database, app.address);
      try {
        const behind = await waitFor(async () => {
          const s = await restarted.clients.admin.getConsumerStatus({});
          return s.state === CONSUMER_STATE_BEHIND_RETENTION ? s : undefined;
        });
        expect(behind.lastError).toMatch(/^OUT_OF_RANGE/);
        expect((await storedRecords(audit.database)).count).toBe(5);

        const rebuilt = await restarted.clients.admin.rebuildAudit({ requestId: 'rebuild-1' });
        expect(rebuilt.recordsDeleted).toBe(5);
        expect(rebuilt.previousConsumedSequence).toBeGreaterThan(0);
        await caughtUp(app, restarted.clients);
        expect((await storedRecords(audit.database)).sequences).toEqual(kept.slice(-5));
        // A retry answers the same and deletes nothing.
        expect(await restarted.clients.admin.rebuildAudit({ requestId: 'rebuild-1' })).toEqual(rebuilt);
        expect((await storedRecords(audit.database)).count).toBe(5);
      } finally {
        await restarted.stop();
      }
    } finally {
      await audit.stop();
      await app.stop();
    }
  });
});
