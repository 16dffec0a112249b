import { integerOf, type IntegerColumn } from './columns';

/** A row of `leases`: who runs a piece of scheduled work, until when. */
export interface LeaseRow {
  readonly name: string;
  readonly holder: string;
  readonly expire_ms: IntegerColumn;
}

export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly expireMs: number;
}

export function leaseRow(lease: Lease): LeaseRow {
  return { name: lease.name, holder: lease.holder, expire_ms: lease.expireMs };
}

export function leaseOf(row: LeaseRow): Lease {
  return { name: row.name, holder: row.holder, expireMs: integerOf(row.expire_ms, 'leases.expire_ms') };
}
