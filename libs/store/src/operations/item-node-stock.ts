import type { Knex } from 'knex';
import { positionKeyId, type ItemKey, type PositionInputs, type PositionKey, type Supply } from '@inventory/domain';
import { integerOf, type IntegerColumn } from '../tables/columns';
import { POSITION_KEY_COLUMNS, positionKeyOf, type PositionKeyColumns } from '../tables/position-key';
import { quantityRecordOf } from '../tables/quantities';
import type { SupplyRow } from '../tables/supply';
import { whereDemandCounts, whereHoldTakes } from './counting-sql';
import { SUPPLY } from './supply';

/** A row of a per-position aggregate: the position's key columns and a figure. */
interface PositionFigureRow extends PositionKeyColumns {
  readonly figure: IntegerColumn | null;
}

/** A position's inputs while the reads fill them in. */
interface PositionBuilder {
  readonly segment: PositionKey['segment'];
  readonly supplies: Supply[];
  countedDemand: number;
  activeReservations: number;
  settledLoan: number;
}

/** The aggregates are grouped by position: every key column (the item's are fixed by the WHERE). */
const GROUP = POSITION_KEY_COLUMNS;

/**
 * Every position of an item at the nodes (the unsegmented pool and each segment) as an availability figure
 * needs them: the position's supply rows, its counted demand, the units of its holds that take at `nowMs`,
 * and the loan it was last settled at. Four reads whatever the number of nodes and segments, each narrowed
 * by the item and the nodes, the leading columns of the supply, demand and stock_positions keys, and
 * grouped by node and segment. No locks: the reads are not one snapshot, which the settled loans tolerate
 * (a settled loan only shrinks between settlements, and the figure recomputes it from the counts).
 * Returns the positions by node; a node with no rows has none.
 */
export async function readItemNodeStock({
  db,
  item,
  nodeIds,
  nowMs,
}: {
  db: Knex;
  item: ItemKey;
  nodeIds: readonly string[];
  nowMs: number;
}): Promise<Map<string, PositionInputs[]>> {
  const positions = new Map<string, { key: PositionKey; inputs: PositionBuilder }>();
  const positionAt = (row: PositionKeyColumns): PositionBuilder => {
    const key = positionKeyOf(row);
    const id = positionKeyId(key);
    const found = positions.get(id);
    if (found) return found.inputs;
    const inputs = { segment: key.segment, supplies: [], countedDemand: 0, activeReservations: 0, settledLoan: 0 };
    positions.set(id, { key, inputs });
    return inputs;
  };

  const supplies: SupplyRow[] = await atItemNodes(db, 'supply', item, nodeIds).orderBy([
    'node_id',
    'segment_type',
    'segment',
    ...SUPPLY.orderColumns,
  ]);
  for (const row of supplies) positionAt(row).supplies.push(quantityRecordOf(SUPPLY, row));

  const demand: PositionFigureRow[] = await whereDemandCounts(atItemNodes(db, 'demand', item, nodeIds))
    .groupBy(GROUP)
    .select(GROUP)
    .sum({ figure: 'quantity' });
  for (const row of demand) positionAt(row).countedDemand = figureOf(row, 'demand');

  const held: PositionFigureRow[] = await whereHoldTakes(
    atItemNodes(db, 'stock_positions as p', item, nodeIds, 'p.').join(
      'reservation_holds as h',
      'h.position_id',
      'p.position_id',
    ),
    nowMs,
    'h.',
  )
    .groupBy(GROUP.map((c) => `p.${c}`))
    .select(GROUP.map((c) => `p.${c} as ${c}`))
    .sum({ figure: 'h.quantity' });
  for (const row of held) positionAt(row).activeReservations = figureOf(row, 'reservation_holds');

  const loans: PositionFigureRow[] = await atItemNodes(db, 'stock_positions', item, nodeIds)
    .whereNot('loan', 0)
    .select([...GROUP, 'loan as figure']);
  for (const row of loans) positionAt(row).settledLoan = figureOf(row, 'stock_positions.loan');

  const byNode = new Map<string, PositionInputs[]>(nodeIds.map((n) => [n, []]));
  for (const { key, inputs } of positions.values()) byNode.get(key.nodeId)?.push(inputs);
  return byNode;
}

/** Rows of a table keyed by position at an item's nodes. */
function atItemNodes(
  db: Knex,
  table: string,
  item: ItemKey,
  nodeIds: readonly string[],
  alias = '',
): Knex.QueryBuilder {
  return db(table)
    .where({
      [`${alias}item_id`]: item.itemId,
      [`${alias}unit_of_measure`]: item.unitOfMeasure,
      [`${alias}product_class`]: item.productClass,
    })
    .whereIn(`${alias}node_id`, nodeIds);
}

function figureOf(row: PositionFigureRow, source: string): number {
  return row.figure === null ? 0 : integerOf(row.figure, source);
}
