/** A transaction that takes its outbox row id first and commits when the test says: a late commit. */
import { randomUUID } from 'node:crypto';
import * as pb from '@inventory/contracts';
import { ChangeEvent } from '@inventory/contracts/events';
import { appendOutbox, inTransaction, type Database } from '@inventory/store';

export interface HeldOutboxEvent {
  /** The event the open transaction wrote. */
  readonly event: ChangeEvent;
  /** Lets the transaction commit; resolves once it has. */
  commit(): Promise<void>;
}

/** A node_created event for a node "HELD": a plain event for a held transaction to write. */
export function heldNodeEvent(): ChangeEvent {
  return ChangeEvent.fromPartial({
    eventId: randomUUID(),
    type: 'node_created',
    occurTime: new Date(),
    actionId: randomUUID(),
    auditType: pb.AuditType.AUDIT_TYPE_SYSTEM,
    nodeCreated: { node: { nodeId: 'HELD', nodeType: pb.NodeType.NODE_TYPE_DC } },
  });
}

/**
 * Appends `event` to the outbox in a transaction that stays open until `commit()`; resolves once the row is
 * inserted, so that every change the test makes afterwards takes a higher row id and commits first.
 */
export async function holdOutboxEvent(db: Database, event: ChangeEvent = heldNodeEvent()): Promise<HeldOutboxEvent> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let inserted!: () => void;
  const insertDone = new Promise<void>((resolve) => (inserted = resolve));
  const done = inTransaction(db, async (trx) => {
    await appendOutbox({ trx, events: [event] });
    inserted();
    await released;
  });
  await Promise.race([insertDone, done]);
  return {
    event,
    commit: () => {
      release();
      return done;
    },
  };
}
