/** The machine line of the report: results are only comparable on the same hardware and versions. */
import { cpus, totalmem } from 'node:os';
import type { RowDataPacket } from 'mysql2/promise';
import { connect } from './mysql';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly mariadb: string;
}

export async function describeMachine(mysqlUrl: string): Promise<Machine> {
  const conn = await connect(mysqlUrl);
  try {
    const [[row]] = await conn.query<(RowDataPacket & { version: string })[]>('SELECT VERSION() AS version');
    const cpu = cpus();
    return {
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      mariadb: row.version,
    };
  } finally {
    await conn.end();
  }
}

export function machineLine(m: Machine): string {
  return `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; Node ${m.node}; MariaDB ${m.mariadb}`;
}
