/**
 * The rebalance scenario, for one INVENTORY_REBALANCE_PAGE_SIZE: a fresh service and database seeded with the
 * scenario's item-nodes, the raw baseline on a copy of the seeded rows, then the service's own rebalance, each
 * checked in the database afterwards.
 */
import { check, type Check } from './check';
import { connect, ensureBaselineDatabase, BASELINE_DATABASE } from './mysql';
import {
  compareSupply,
  positionsMatchSupply,
  rebalancedChecks,
  seededChecks,
  serviceBookkeepingChecks,
} from './rebalance-checks';
import { expectedChanges, rebalanceLayout } from './rebalance-plan';
import { copySeededSupply, measureRawRebalance, RAW_REBALANCE_TABLE } from './rebalance-raw';
import { seedRebalanceSupply } from './rebalance-seed';
import { defineRebalancePlan, timeRebalance } from './rebalance-service';
import { SERVICE_DATABASE, ServiceUnderTest } from './service';
import { statementsPerCall, type DatabasePerCall, type StatementCounts } from './statement-counts';

export interface RebalanceSettings {
  readonly mysqlUrl: string;
  readonly servicePoolSize: number;
  readonly itemNodes: number;
}

/** One side of the comparison: how long it took to rebalance every item-node, and what it cost. */
export interface RebalanceSide {
  readonly seconds: number;
  readonly itemNodesPerSecond: number;
  /** The service process's CPU seconds over the run (service side only). */
  readonly serverCpuSeconds?: number;
  /** MariaDB's statements per item-node over the run ("calls" per COMMIT: item-nodes per transaction). */
  readonly databasePerItemNode?: DatabasePerCall;
}

/** The scenario measured at one page size. */
export interface RebalanceMeasurement {
  readonly pageSize: number;
  readonly itemNodes: number;
  /** Supply rows the rebalance changes (the baseline writes the same ones). */
  readonly rowsChanged: number;
  /** Seconds the seeding in SQL took. */
  readonly seedSeconds: number;
  readonly service: RebalanceSide;
  readonly baseline: RebalanceSide;
}

/**
 * Measures the scenario at `pageSize`. A service that cannot start, be seeded or finish its run is a failed
 * check, not a crash, so the measurements so far are still reported.
 */
export async function measureRebalance(
  settings: RebalanceSettings,
  pageSize: number,
  log: (line: string) => void,
): Promise<{ measurement?: RebalanceMeasurement; checks: Check[] }> {
  const name = `rebalance page ${pageSize}`;
  const layout = rebalanceLayout(settings.itemNodes);
  const expected = expectedChanges(layout);
  const tag = Date.now().toString(36);
  await ensureBaselineDatabase(settings.mysqlUrl);
  log(`${name}: starting the allocation service (INVENTORY_REBALANCE_PAGE_SIZE=${pageSize})`);
  let service: ServiceUnderTest;
  try {
    service = await ServiceUnderTest.start({
      mysqlUrl: settings.mysqlUrl,
      poolSize: settings.servicePoolSize,
      env: { INVENTORY_REBALANCE_PAGE_SIZE: String(pageSize) },
    });
  } catch (err) {
    return { checks: [check(`${name}: start`, false, (err as Error).message)] };
  }
  const checks: Check[] = [];
  const db = await connect(settings.mysqlUrl, SERVICE_DATABASE);
  const baselineDb = await connect(settings.mysqlUrl, BASELINE_DATABASE);
  try {
    log(`${name}: defining the plan through the API and seeding ${layout.itemNodes} item-nodes in SQL`);
    await defineRebalancePlan(service, layout, tag);
    const seedStarted = performance.now();
    await seedRebalanceSupply(db, layout);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    checks.push(
      ...seededChecks(name, await compareSupply(db, 'supply', layout), layout, expected),
      await positionsMatchSupply(db, `${name}: seeded stock positions = their ONHAND rows`),
    );

    log(`${name}: baseline, raw mysql2 on a copy of the seeded rows`);
    await copySeededSupply(settings.mysqlUrl, SERVICE_DATABASE);
    const raw = await measureRawRebalance(settings.mysqlUrl, pageSize);
    checks.push(
      ...rebalancedChecks(`${name} baseline`, await compareSupply(baselineDb, RAW_REBALANCE_TABLE, layout), layout),
      check(
        `${name} baseline: wrote the rows the rule changes`,
        raw.rowsChanged === expected.rowsChanged && raw.itemNodes === layout.itemNodes,
        `${raw.rowsChanged} rows written (${expected.rowsChanged}), ${raw.itemNodes} item-nodes`,
      ),
    );

    log(`${name}: RebalanceService.Rebalance over every item-node`);
    const timed = await timeRebalance(service, settings.mysqlUrl, tag);
    checks.push(
      ...rebalancedChecks(`${name} service`, await compareSupply(db, 'supply', layout), layout),
      ...(await serviceBookkeepingChecks(db, timed.run, layout, expected)).map((c) => ({
        ...c,
        name: c.name.replace(/^rebalance/, name),
      })),
    );
    const side = (seconds: number, statements?: { from: StatementCounts; until: StatementCounts }) => ({
      seconds,
      itemNodesPerSecond: layout.itemNodes / seconds,
      ...(statements && {
        databasePerItemNode: statementsPerCall(statements.from, statements.until, layout.itemNodes),
      }),
    });
    const measurement: RebalanceMeasurement = {
      pageSize,
      itemNodes: layout.itemNodes,
      rowsChanged: expected.rowsChanged,
      seedSeconds,
      service: { ...side(timed.seconds, timed.statements), serverCpuSeconds: timed.serverCpuSeconds },
      baseline: side(raw.seconds, raw.statements),
    };
    log(
      `  ${name}: service ${Math.round(measurement.service.itemNodesPerSecond)} item-nodes/s (${timed.seconds.toFixed(1)} s), ` +
        `baseline ${Math.round(measurement.baseline.itemNodesPerSecond)} item-nodes/s (${raw.seconds.toFixed(1)} s)`,
    );
    return { measurement, checks };
  } catch (err) {
    return { checks: [...checks, check(`${name}: run`, false, (err as Error).message)] };
  } finally {
    await db.end();
    await baselineDb.end();
    await service.stop();
  }
}
