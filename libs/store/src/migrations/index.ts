import type { Knex } from 'knex';
import * as createNodes from './20261129000100_create_nodes';
import * as createDistributionGroups from './20261129000200_create_distribution_groups';
import * as createSafetyStock from './20261129000300_create_safety_stock';
import * as createSupply from './20261129000400_create_supply';
import * as createSupplyLedger from './20261129000500_create_supply_ledger';
import * as createOutbox from './20261129000600_create_outbox';
import * as createIdempotencyKeys from './20261129000700_create_idempotency_keys';

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
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};
