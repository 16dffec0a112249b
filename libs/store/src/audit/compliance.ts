import { deviationKeyId, type DeviationKey, type ItemKey, type SupplyType } from '@inventory/domain';
import type { Database } from '../database';
import { integerOf, integerOrNullOf, type IntegerColumn } from '../tables/columns';
import { chunks } from '../operations/chunks';
import { keyHash } from './key-hash';

/**
 * The deviations from plans the audit app's compliance checks have seen, each with since when. A check
 * writes what it saw of one page of item-nodes in one transaction: deviations it saw first get their start,
 * those it saw end are deleted.
 */

const hashOf = (key: DeviationKey) => keyHash(deviationKeyId(key));

/** Since when each of `keys` has deviated, for those a check saw before; keyed by deviationKeyId. */
export async function deviationsSince(db: Database, keys: readonly DeviationKey[]): Promise<Map<string, number>> {
  const byHash = new Map(keys.map((k) => [hashOf(k), deviationKeyId(k)]));
  const since = new Map<string, number>();
  for (const chunk of chunks([...byHash.keys()])) {
    const rows = (await db.knex('audit_compliance_deviations').whereIn('deviation_key', chunk)) as Array<{
      deviation_key: string;
      since_ms: IntegerColumn;
    }>;
    for (const row of rows) since.set(byHash.get(row.deviation_key) as string, integerOf(row.since_ms, 'since_ms'));
  }
  return since;
}

/** Records new deviations with their start (keeping the start of any a concurrent check stored) and ends others. */
export async function recordDeviations(
  db: Database,
  started: ReadonlyArray<{ key: DeviationKey; sinceMs: number }>,
  ended: readonly DeviationKey[],
): Promise<void> {
  await db.knex.transaction(async (trx) => {
    for (const chunk of chunks(ended.map(hashOf)))
      await trx('audit_compliance_deviations').whereIn('deviation_key', chunk).delete();
    const rows = started.map(({ key, sinceMs }) => ({
      deviation_key: hashOf(key),
      plan_segment_type: key.planSegmentType,
      item_id: key.item.itemId,
      unit_of_measure: key.item.unitOfMeasure,
      product_class: key.item.productClass,
      node_id: key.nodeId,
      segment_type: key.segment.segmentType,
      segment: key.segment.segment,
      supply_type: key.supplyType,
      since_ms: sinceMs,
    }));
    for (const chunk of chunks(rows))
      await trx('audit_compliance_deviations').insert(chunk).onConflict('deviation_key').ignore();
  });
}

/**
 * When the supply of an item at a node of one type last changed in the pool or a segment of `segmentType`,
 * by the records; null when there is no record of it.
 */
export async function lastSupplyChangeMs(
  db: Database,
  item: ItemKey,
  nodeId: string,
  supplyType: SupplyType,
  segmentType: string,
): Promise<number | null> {
  const row = (await db
    .knex('audit_supply_records')
    .where({
      item_id: item.itemId,
      unit_of_measure: item.unitOfMeasure,
      product_class: item.productClass,
      node_id: nodeId,
      supply_type: supplyType,
      outcome: 'APPLIED',
    })
    .whereIn('segment_type', [segmentType, ''])
    .whereNot('purpose', 'SEGMENT_CONSUMPTION')
    .max({ at: 'occur_ms' })
    .first()) as { at: IntegerColumn | null } | undefined;
  return integerOrNullOf(row?.at ?? null, 'occur_ms');
}
