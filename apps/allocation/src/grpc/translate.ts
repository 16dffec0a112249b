/** Proto <-> domain translation shared by the handlers. No decisions are made here. */
import * as pb from '@inventory/contracts';
import {
  itemKey,
  type BorrowLimit,
  type Demand,
  type DemandKey,
  type DemandKeyInput,
  type DemandType,
  type DistributionGroup,
  type LineResult,
  type ItemKey,
  type Node,
  type NodeType,
  type SafetyStockLevel,
  type SegmentKey,
  type Supply,
  type SupplyKey,
  type SupplyKeyInput,
  type SupplyLineResult,
  type SupplyType,
} from '@inventory/domain';

export function toItemKey(item: pb.ItemKey | undefined): ItemKey | undefined {
  return item && itemKey(item.itemId, item.unitOfMeasure, item.productClass);
}

export function fromItemKey(item: ItemKey): pb.ItemKey {
  return { itemId: item.itemId, unitOfMeasure: item.unitOfMeasure, productClass: item.productClass };
}

export function toSegment(segment: pb.SegmentKey | undefined): SegmentKey {
  return { segmentType: segment?.segmentType ?? '', segment: segment?.segment ?? '' };
}

/** `undefined` when unset; NaN when the timestamp is not a representable time. */
export function toMs(time: Date | undefined): number | undefined {
  return time === undefined ? undefined : time.getTime();
}

export function fromMs(ms: number): Date {
  return new Date(ms);
}

/** `undefined` for UNSPECIFIED and for values this service does not know. */
export function toSupplyType(type: pb.SupplyType): SupplyType | undefined {
  const name = pb.SupplyType[type]?.replace(/^SUPPLY_TYPE_/, '');
  return name === 'UNSPECIFIED' || name === 'UNRECOGNIZED' ? undefined : (name as SupplyType | undefined);
}

export function fromSupplyType(type: SupplyType): pb.SupplyType {
  return pb.SupplyType[`SUPPLY_TYPE_${type}`];
}

export function toNodeType(type: pb.NodeType): NodeType | undefined {
  const name = pb.NodeType[type]?.replace(/^NODE_TYPE_/, '');
  return name === 'UNSPECIFIED' || name === 'UNRECOGNIZED' ? undefined : (name as NodeType | undefined);
}

export function fromNodeType(type: NodeType): pb.NodeType {
  return pb.NodeType[`NODE_TYPE_${type}`];
}

export function fromSegment(segment: SegmentKey): pb.SegmentKey {
  return { segmentType: segment.segmentType, segment: segment.segment };
}

export function fromBorrowLimit(limit: BorrowLimit): pb.BorrowLimit {
  return pb.BorrowLimit[`BORROW_LIMIT_${limit}`];
}

export function fromSafetyStockLevel(level: SafetyStockLevel): pb.SafetyStockLevel {
  return pb.SafetyStockLevel[`SAFETY_STOCK_LEVEL_${level}`];
}

export function toSupplyKeyInput(key: pb.SupplyKey | undefined): SupplyKeyInput | undefined {
  return (
    key && {
      item: toItemKey(key.item),
      nodeId: key.nodeId,
      segment: toSegment(key.segment),
      supplyType: toSupplyType(key.supplyType),
      etaMs: toMs(key.etaTime),
    }
  );
}

export function fromSupplyKey(key: SupplyKey): pb.SupplyKey {
  return {
    item: fromItemKey(key.item),
    nodeId: key.nodeId,
    segment: { segmentType: key.segment.segmentType, segment: key.segment.segment },
    supplyType: fromSupplyType(key.supplyType),
    etaTime: key.etaMs === null ? undefined : fromMs(key.etaMs),
  };
}

export function fromSupply(supply: Supply): pb.Supply {
  return {
    key: fromSupplyKey(supply.key),
    quantity: supply.quantity,
    lastSyncTime: supply.lastSyncMs === null ? undefined : fromMs(supply.lastSyncMs),
    updateTime: fromMs(supply.updateMs),
  };
}

export function fromLineResult(result: SupplyLineResult): pb.SupplyLineResult {
  return {
    key: fromSupplyKey(result.key),
    outcome:
      result.outcome === 'APPLIED'
        ? pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_APPLIED
        : pb.SupplyLineOutcome.SUPPLY_LINE_OUTCOME_IGNORED_SUPERSEDED,
    quantityBefore: result.quantityBefore,
    quantityAfter: result.quantityAfter,
  };
}

/** `undefined` for UNSPECIFIED and for values this service does not know. */
export function toDemandType(type: pb.DemandType): DemandType | undefined {
  const name = pb.DemandType[type]?.replace(/^DEMAND_TYPE_/, '');
  return name === 'UNSPECIFIED' || name === 'UNRECOGNIZED' ? undefined : (name as DemandType | undefined);
}

export function toDemandKeyInput(key: pb.DemandKey | undefined): DemandKeyInput | undefined {
  return (
    key && {
      item: toItemKey(key.item),
      nodeId: key.nodeId,
      segment: toSegment(key.segment),
      demandType: toDemandType(key.demandType),
      orderReference: key.orderReference,
    }
  );
}

export function fromDemandKey(key: DemandKey): pb.DemandKey {
  return {
    item: fromItemKey(key.item),
    nodeId: key.nodeId,
    segment: { segmentType: key.segment.segmentType, segment: key.segment.segment },
    demandType: pb.DemandType[`DEMAND_TYPE_${key.demandType}`],
    orderReference: key.orderReference,
  };
}

export function fromDemand(demand: Demand): pb.Demand {
  return {
    key: fromDemandKey(demand.key),
    quantity: demand.quantity,
    lastSyncTime: demand.lastSyncMs === null ? undefined : fromMs(demand.lastSyncMs),
    updateTime: fromMs(demand.updateMs),
  };
}

export function fromDemandLineResult(result: LineResult<DemandKey>): pb.DemandLineResult {
  return {
    key: fromDemandKey(result.key),
    outcome:
      result.outcome === 'APPLIED'
        ? pb.DemandLineOutcome.DEMAND_LINE_OUTCOME_APPLIED
        : pb.DemandLineOutcome.DEMAND_LINE_OUTCOME_IGNORED_SUPERSEDED,
    quantityBefore: result.quantityBefore,
    quantityAfter: result.quantityAfter,
  };
}

export function fromNode(node: Node): pb.Node {
  return {
    nodeId: node.nodeId,
    nodeType: fromNodeType(node.nodeType),
    description: node.description,
    createTime: fromMs(node.createMs),
  };
}

export function fromGroup(group: DistributionGroup): pb.DistributionGroup {
  return {
    distributionGroupId: group.distributionGroupId,
    nodeIds: [...group.nodeIds],
    description: group.description,
    createTime: fromMs(group.createMs),
  };
}
