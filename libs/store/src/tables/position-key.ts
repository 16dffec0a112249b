import type { PositionKey } from '@inventory/domain';

/** The columns that name a stock position: item, node and segment (supply, demand and positions share them). */
export interface PositionKeyColumns {
  readonly item_id: string;
  readonly unit_of_measure: string;
  readonly product_class: string;
  readonly node_id: string;
  readonly segment_type: string;
  readonly segment: string;
}

/** The names of those columns, in key order. */
export const POSITION_KEY_COLUMNS = [
  'item_id',
  'unit_of_measure',
  'product_class',
  'node_id',
  'segment_type',
  'segment',
] as const satisfies ReadonlyArray<keyof PositionKeyColumns>;

/** The columns that name an item at a node: a position's key without its segment. */
export const ITEM_NODE_COLUMNS = POSITION_KEY_COLUMNS.slice(0, 4);

export function positionKeyColumns(key: PositionKey): PositionKeyColumns {
  return {
    item_id: key.item.itemId,
    unit_of_measure: key.item.unitOfMeasure,
    product_class: key.item.productClass,
    node_id: key.nodeId,
    segment_type: key.segment.segmentType,
    segment: key.segment.segment,
  };
}

export function positionKeyOf(row: PositionKeyColumns): PositionKey {
  return {
    item: { itemId: row.item_id, unitOfMeasure: row.unit_of_measure, productClass: row.product_class },
    nodeId: row.node_id,
    segment: { segmentType: row.segment_type, segment: row.segment },
  };
}
