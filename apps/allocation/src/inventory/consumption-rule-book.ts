import { randomUUID } from 'node:crypto';
import {
  ConsumptionRulesVersionNotFoundError,
  newBorrowers,
  NO_CONSUMPTION_RULES,
  parsePageSize,
  parseRulesVersion,
  parseSetConsumptionRules,
  type Clock,
  type SetConsumptionRulesInput,
} from '@inventory/domain';
import {
  appendOutbox,
  insertConsumptionRules,
  listConsumptionRuleVersions,
  mutate,
  readConsumptionRules,
  readConsumptionRulesVersion,
  settleLoansOfNewBorrowers,
  type ConsumptionRulesVersion,
  type Database,
  decodePageToken,
  page,
} from '@inventory/store';
import { consumptionRulesChangedEvent } from '../events/change-events';
import { requireUsableSegments } from './segment-catalog';

/** The rules in force before any were set. */
const VERSION_ZERO: ConsumptionRulesVersion = { rules: NO_CONSUMPTION_RULES, requestId: '', createMs: 0 };

/** The consumption rules: whether and how much segments may borrow from the unsegmented pool, by version. */
export class ConsumptionRuleBook {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Makes the rules sent the next version. Segments it lets borrow that could not before have their loans
   * settled in the same transaction, so that the pool counts what they already owe from the moment the
   * version is in force.
   */
  async set(input: SetConsumptionRulesInput): Promise<ConsumptionRulesVersion> {
    const cmd = parseSetConsumptionRules(input);
    await requireUsableSegments(
      this.db.knex,
      cmd.rules.segments.map((s, i) => [`segments[${i}].segment`, s.segment]),
    );
    return mutate(
      { db: this.db, clock: this.clock, method: 'SetConsumptionRules', requestId: cmd.requestId, request: cmd },
      async (trx, nowMs) => {
        const before = await readConsumptionRules({ db: trx });
        const rules = await insertConsumptionRules({ trx, rules: cmd.rules, requestId: cmd.requestId, nowMs });
        await settleLoansOfNewBorrowers({ trx, segments: newBorrowers(before, rules) });
        const version: ConsumptionRulesVersion = { rules, requestId: cmd.requestId, createMs: nowMs };
        await appendOutbox({
          trx,
          events: [
            consumptionRulesChangedEvent({ actionId: randomUUID(), requestId: cmd.requestId, occurMs: nowMs }, version),
          ],
        });
        return version;
      },
    );
  }

  /** One version; 0 for the one in force. */
  async get(version: number): Promise<ConsumptionRulesVersion> {
    const wanted = parseRulesVersion(version);
    const found = await readConsumptionRulesVersion({ db: this.db.knex, version: wanted === 0 ? undefined : wanted });
    if (found) return found;
    if (wanted === 0) return VERSION_ZERO;
    throw new ConsumptionRulesVersionNotFoundError(wanted);
  }

  /** The versions made, newest first. */
  async list(pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const before = decodePageToken(pageToken, 'consumption_rule_versions', Number.MAX_SAFE_INTEGER);
    const rows = await listConsumptionRuleVersions({ db: this.db.knex, beforeVersion: before, limit: size + 1 });
    return page(rows, size, (v) => v.rules.version, 'consumption_rule_versions');
  }
}
