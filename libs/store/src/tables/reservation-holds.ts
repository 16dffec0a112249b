import { codeOf, integerOf, type IntegerColumn } from './columns';

const HOLD_STATES = ['HELD', 'RELEASED', 'CONSUMED', 'EXPIRED'] as const;

/** A row of `reservation_holds`: units of one reservation line held at one position. */
export interface HoldRow {
  readonly hold_id: IntegerColumn;
  readonly reservation_id: string;
  readonly line_index: number;
  readonly position_id: IntegerColumn;
  readonly node_id: string;
  readonly item_id: string;
  readonly quantity: IntegerColumn;
  readonly state: string;
  /** A copy of the reservation's expiry, so a position can find its expired holds. */
  readonly expire_ms: IntegerColumn;
}

/** Units of one reservation line held at one position. */
export interface HoldRecord {
  readonly holdId: number;
  readonly reservationId: string;
  readonly lineIndex: number;
  readonly positionId: number;
  readonly nodeId: string;
  readonly quantity: number;
  readonly state: (typeof HOLD_STATES)[number];
}

/** A new hold: units of one line of a new reservation at one position. */
export type NewHold = Omit<HoldRecord, 'holdId' | 'state'> & { readonly itemId: string; readonly expireMs: number };

export function newHoldRow(hold: NewHold): Omit<HoldRow, 'hold_id'> {
  return {
    reservation_id: hold.reservationId,
    line_index: hold.lineIndex,
    position_id: hold.positionId,
    node_id: hold.nodeId,
    item_id: hold.itemId,
    quantity: hold.quantity,
    state: 'HELD',
    expire_ms: hold.expireMs,
  };
}

export function holdRecordOf(row: HoldRow): HoldRecord {
  return {
    holdId: integerOf(row.hold_id, 'reservation_holds.hold_id'),
    reservationId: row.reservation_id,
    lineIndex: row.line_index,
    positionId: integerOf(row.position_id, 'reservation_holds.position_id'),
    nodeId: row.node_id,
    quantity: integerOf(row.quantity, 'reservation_holds.quantity'),
    state: codeOf(HOLD_STATES, row.state, 'reservation_holds.state'),
  };
}
