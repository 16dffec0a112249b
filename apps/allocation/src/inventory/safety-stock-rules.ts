import { randomUUID } from 'node:crypto';
import {
  parseDeleteSafetyStock,
  parseSetSafetyStock,
  resolveSafetyStock,
  SafetyStockNotFoundError,
  Violations,
  type EffectiveSafetyStock,
  type ItemKey,
  type SafetyStockRule,
  type SetSafetyStockInput,
  type Clock,
} from '@inventory/domain';
import {
  appendOutbox,
  deleteSafetyStock,
  findSafetyStock,
  upsertSafetyStock,
  type Database,
  mutate,
} from '@inventory/store';
import { safetyStockDeletedEvent, safetyStockSetEvent } from '../events/change-events';
import type { NodeCatalog } from './node-catalog';

/** Safety stock per item and node, falling back to the item, then to none. */
export class SafetyStockRules {
  constructor(
    private readonly db: Database,
    private readonly nodes: NodeCatalog,
    private readonly clock: Clock,
  ) {}

  async set(input: SetSafetyStockInput): Promise<SafetyStockRule> {
    const cmd = parseSetSafetyStock(input);
    if (cmd.rule.nodeId !== '') await this.nodes.requireNodes([cmd.rule.nodeId]);
    return mutate(
      { db: this.db, clock: this.clock, method: 'SetSafetyStock', requestId: cmd.requestId, request: cmd },
      async (trx, nowMs) => {
        await upsertSafetyStock({ trx, rule: cmd.rule, nowMs });
        await appendOutbox({
          trx,
          events: [safetyStockSetEvent({ actionId: randomUUID(), requestId: cmd.requestId, occurMs: nowMs }, cmd.rule)],
        });
        return cmd.rule;
      },
    );
  }

  async delete(input: Omit<SetSafetyStockInput, 'quantity'>): Promise<void> {
    const cmd = parseDeleteSafetyStock(input);
    await mutate(
      { db: this.db, clock: this.clock, method: 'DeleteSafetyStock', requestId: cmd.requestId, request: cmd },
      async (trx, nowMs) => {
        if (!(await deleteSafetyStock({ trx, item: cmd.item, nodeId: cmd.nodeId }))) {
          throw new SafetyStockNotFoundError(cmd.item.itemId, cmd.nodeId);
        }
        await appendOutbox({
          trx,
          events: [
            safetyStockDeletedEvent(
              { actionId: randomUUID(), requestId: cmd.requestId, occurMs: nowMs },
              cmd.item,
              cmd.nodeId,
            ),
          ],
        });
        return {};
      },
    );
  }

  /** The quantity in force for the item at the node, and where it comes from. */
  async effective(item: ItemKey | undefined, nodeId: string): Promise<EffectiveSafetyStock> {
    const v = new Violations();
    v.item('item', item);
    v.id('node_id', nodeId);
    v.throwIfAny();
    await this.nodes.requireNodes([nodeId]);
    return resolveSafetyStock(
      await findSafetyStock({ db: this.db.knex, item: item as ItemKey, nodeIds: [nodeId] }),
      nodeId,
    );
  }
}
