import type { Knex } from 'knex';
import * as createNodes from './20261129000100_create_nodes';
import * as createDistributionGroups from './20261129000200_create_distribution_groups';
import * as createSafetyStock from './20261129000300_create_safety_stock';
import * as createSupply from './20261129000400_create_supply';
import * as createSupplyLedger from './20261129000500_create_supply_ledger';
import * as createOutbox from './20261129000600_create_outbox';
import * as createIdempotencyKeys from './20261129000700_create_idempotency_keys';
import * as createDemand from './20261129000800_create_demand';
import * as createDemandLedger from './20261129000900_create_demand_ledger';
import * as createStockPositions from './20261129001000_create_stock_positions';
import * as createReservations from './20261129001100_create_reservations';
import * as createReservationHolds from './20261129001200_create_reservation_holds';
import * as createLeases from './20261129001300_create_leases';
import * as widenOutboxPayload from './20261129001400_widen_outbox_payload';
import * as binaryOutboxPayload from './20261129001500_binary_outbox_payload';
import * as createSegments from './20261129002000_create_segments';
import * as indexStockBySegment from './20261129002100_index_stock_by_segment';
import * as borrowing from './20261129003000_borrowing';
import * as allocationPlans from './20261129004000_allocation_plans';
import * as rebalancing from './20261129005000_rebalancing';
import * as rebalanceTriggers from './20261129005100_rebalance_triggers';
import * as changeStream from './20261129006000_change_stream';
import * as streamCursors from './20261130007000_stream_cursors';

type Migration = Knex.Migration;

/** Every migration in order. Listed statically so that a bundled build carries them. */
const migrations: Record<string, Migration> = {
  '20261129000100_create_nodes': createNodes,
  '20261129000200_create_distribution_groups': createDistributionGroups,
  '20261129000300_create_safety_stock': createSafetyStock,
  '20261129000400_create_supply': createSupply,
  '20261129000500_create_supply_ledger': createSupplyLedger,
  '20261129000600_create_outbox': createOutbox,
  '20261129000700_create_idempotency_keys': createIdempotencyKeys,
  '20261129000800_create_demand': createDemand,
  '20261129000900_create_demand_ledger': createDemandLedger,
  '20261129001000_create_stock_positions': createStockPositions,
  '20261129001100_create_reservations': createReservations,
  '20261129001200_create_reservation_holds': createReservationHolds,
  '20261129001300_create_leases': createLeases,
  '20261129001400_widen_outbox_payload': widenOutboxPayload,
  '20261129001500_binary_outbox_payload': binaryOutboxPayload,
  '20261129002000_create_segments': createSegments,
  '20261129002100_index_stock_by_segment': indexStockBySegment,
  '20261129003000_borrowing': borrowing,
  '20261129004000_allocation_plans': allocationPlans,
  '20261129005000_rebalancing': rebalancing,
  '20261129005100_rebalance_triggers': rebalanceTriggers,
  '20261129006000_change_stream': changeStream,
  '20261130007000_stream_cursors': streamCursors,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};
