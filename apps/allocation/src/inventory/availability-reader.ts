import {
  availabilityByDate,
  networkAvailability,
  parseAvailabilityByDateQuery,
  parseAvailabilityQuery,
  resolveSafetyStock,
  type AvailabilityByDate,
  type AvailabilityQuery,
  type AvailabilityQueryInput,
  type NetworkAvailability,
  type NodeAvailabilityInputs,
  type Clock,
} from '@inventory/domain';
import { findSafetyStock, readConsumptionRules, readItemNodeStock, type Database } from '@inventory/store';
import type { NodeCatalog } from './node-catalog';
import { requireUsableSegments } from './segment-catalog';

/** Answers availability questions. Read-only. */
export class AvailabilityReader {
  constructor(
    private readonly db: Database,
    private readonly nodes: NodeCatalog,
    private readonly clock: Clock,
  ) {}

  /** At one node or across a group (the sum of its nodes), as of a time; with the explanation. */
  async availability(input: AvailabilityQueryInput): Promise<NetworkAvailability> {
    const query = parseAvailabilityQuery(input, this.clock());
    return networkAvailability(await this.inputs(query), query.asOfMs);
  }

  /** Now, and at each ETA up to the horizon carried in the input's `asOfMs`. */
  async byDate(input: AvailabilityQueryInput): Promise<AvailabilityByDate> {
    const nowMs = this.clock();
    const query = parseAvailabilityByDateQuery(input, nowMs);
    return availabilityByDate(await this.inputs(query), nowMs, query.asOfMs);
  }

  /**
   * Every position of the item at the nodes, not only the segment asked about: a segment borrows from the
   * pool at its node, and the pool lends to every segment there. Safety stock is the pool's, which bounds
   * what segments may borrow.
   */
  private async inputs(query: AvailabilityQuery): Promise<NodeAvailabilityInputs[]> {
    await requireUsableSegments(this.db.knex, [['segment', query.segment]]);
    const nodeIds = await this.nodeIdsOf(query);
    const db = this.db.knex;
    const rules = await readConsumptionRules({ db });
    const stock = await readItemNodeStock({ db, item: query.item, nodeIds, nowMs: this.clock() });
    const safetyStock = await findSafetyStock({ db, item: query.item, nodeIds });
    return nodeIds.map((nodeId) => ({
      nodeId,
      segment: query.segment,
      positions: stock.get(nodeId) ?? [],
      safetyStock: resolveSafetyStock(safetyStock, nodeId),
      rules,
    }));
  }

  private async nodeIdsOf(query: AvailabilityQuery): Promise<readonly string[]> {
    if ('distributionGroupId' in query.scope)
      return (await this.nodes.getDistributionGroup(query.scope.distributionGroupId)).nodeIds;
    await this.nodes.requireNodes([query.scope.nodeId]);
    return [query.scope.nodeId];
  }
}
