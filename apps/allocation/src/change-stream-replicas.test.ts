import { randomUUID } from 'node:crypto';
import * as pb from '@inventory/contracts';
import { readOutbox } from '@inventory/store';
import { MYSQL_TEST_URL } from '@inventory/store/testing';
import { holdOutboxEvent } from './testing/held-outbox';
import { connectClients, startTestService, type Clients, type TestService } from './testing/harness';
import { listeningPort, startProcess, type ServerProcess } from './testing/process';
import { createNodes, item } from './testing/stock';
import { subscribe, type Subscription } from './testing/subscription';
import { watchAvailability } from './testing/watch';

/**
 * The change stream with two replicas: two server processes on one MariaDB database, each running the
 * sequencer every 50 ms (one holds the lease) and each serving Subscribe. Changes commit in parallel
 * through both while one transaction that took its outbox id first stays open; both subscribers receive
 * the same gap-free sequence, every event once, the late one included, and each supply position's events
 * in the order its changes committed.
 */

const INTERVAL_MS = 50;

(MYSQL_TEST_URL ? describe : describe.skip)(
  `change stream with two server processes [mysql${MYSQL_TEST_URL ? '' : ': skipped, INVENTORY_TEST_MYSQL_URL is not set'}]`,
  () => {
    let t: TestService;
    let procs: ServerProcess[] = [];
    let replicas: Array<{ address: string; clients: Clients; close(): void }> = [];

    beforeAll(async () => {
      // The in-process service creates the schema and does the set-up; its own sequencer is off.
      t = await startTestService('mysql', { INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: '0' });
      await createNodes(t.clients, ['DC1']);
      procs = [0, 1].map(() =>
        startProcess({
          INVENTORY_DATABASE_URL: t.database.url,
          INVENTORY_GRPC_ADDRESS: '127.0.0.1:0',
          INVENTORY_STREAM_SEQUENCER_INTERVAL_MS: String(INTERVAL_MS),
          INVENTORY_STREAM_POLL_INTERVAL_MS: String(INTERVAL_MS),
        }),
      );
      replicas = await Promise.all(
        procs.map(async (p) => {
          const address = `127.0.0.1:${await listeningPort(p)}`;
          return { address, ...connectClients(address) };
        }),
      );
    });
    afterAll(async () => {
      replicas.forEach((r) => r.close());
      for (const p of procs) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      await t.stop();
    });

    const adjust = (clients: Clients, itemId: string, delta: number) =>
      clients.supply.adjustSupply({
        requestId: randomUUID(),
        lines: [
          {
            key: {
              item: item(itemId),
              nodeId: 'DC1',
              segment: undefined,
              supplyType: pb.SupplyType.SUPPLY_TYPE_ONHAND,
              etaTime: undefined,
            },
            quantityDelta: delta,
            sourceTime: new Date(),
            reason: '',
          },
        ],
      });

    it('gives both replicas the same gap-free stream, with a late commit and per-position order', async () => {
      const streams: Subscription[] = replicas.map((r) => subscribe(r.address));
      try {
        const late = await holdOutboxEvent(t.service.db);
        const held = late.event;
        // 24 adjusts of two items through both replicas at once: each item's adjusts queue on its row lock.
        await Promise.all(
          Array.from({ length: 24 }, (_, i) => adjust(replicas[i % 2]!.clients, i % 3 === 0 ? 'P1' : 'P2', 1)),
        );
        // Every event committed so far (the held one is invisible to other connections) reaches both.
        const committedFirst = (await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 10_000 })).length;
        for (const s of streams) await s.received(committedFirst);
        await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL_MS));
        expect(streams.map((s) => s.events.length)).toEqual([committedFirst, committedFirst]);

        await late.commit();
        const all = await readOutbox({ db: t.database.db.knex, afterSequence: 0, limit: 10_000 });
        const [a, b] = await Promise.all(streams.map((s) => s.received(all.length)));
        expect(a!.map((e) => e.sequence)).toEqual(all.map((_, i) => i + 1));
        expect(b).toEqual(a);
        expect(new Set(a!.map((e) => e.eventId))).toEqual(new Set(all.map((e) => e.eventId)));
        expect(a!.at(-1)?.eventId).toBe(held.eventId);
        // ... although it took its outbox id before every adjust did.
        const heldId = all.findIndex((e) => e.eventId === held.eventId);
        expect(all.slice(0, heldId).filter((e) => e.supplyChanged)).toEqual([]);
        // Each position's supply changes come in the order they committed: each starts where the last ended.
        for (const itemId of ['P1', 'P2']) {
          const changes = a!.filter((e) => e.supplyChanged?.key?.item?.itemId === itemId).map((e) => e.supplyChanged!);
          expect(changes.map((c) => [c.quantityBefore, c.quantityAfter])).toEqual(changes.map((_, i) => [i, i + 1]));
        }
        await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL_MS));
        expect(streams.map((s) => s.events.length)).toEqual([all.length, all.length]);
      } finally {
        streams.forEach((s) => s.cancel());
      }
    });

    it("gives each replica's availability watchers the changes committed through the other", async () => {
      await adjust(replicas[0]!.clients, 'WATCHED', 10);
      const watchers = replicas.map((r) => watchAvailability(r.address, { itemIds: ['WATCHED'], nodeIds: ['DC1'] }));
      try {
        await Promise.all(watchers.map((w) => w.snapshot()));
        // Alternate the replica that commits: each watcher sees the other's commits too, ending at 10 + 20.
        for (let i = 0; i < 20; i++) await adjust(replicas[i % 2]!.clients, 'WATCHED', 1);
        for (const w of watchers) await w.until(() => w.latest.get('WATCHED@DC1:/')?.position?.available === 30);
        const seen = watchers.map((w) =>
          w.messages.filter((m) => !m.snapshot).flatMap((m) => m.updates.map((u) => u.sequence)),
        );
        for (const sequences of seen) expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
      } finally {
        watchers.forEach((w) => w.cancel());
      }
    });
  },
);
