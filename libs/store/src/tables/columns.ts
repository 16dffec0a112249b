/**
 * Column values as the drivers return them. better-sqlite3 returns integers and sums as numbers. mysql2
 * (with `supportBigNumbers` and `decimalNumbers`, see database.ts) returns a BIGINT as a number, or as a
 * string once it passes 2^53, and a SUM as a number. Text, and the JSON kept in text columns, comes back as
 * a string on both.
 */
export type IntegerColumn = number | string;

/** A BIGINT column (or a COUNT or SUM) as a number; refuses a value that a number cannot hold exactly. */
export function integerOf(value: IntegerColumn, column: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n))
    throw new Error(`column ${column} holds ${String(value)}, which is not an integer below 2^53`);
  return n;
}

export function integerOrNullOf(value: IntegerColumn | null, column: string): number | null {
  return value === null ? null : integerOf(value, column);
}

/** A text column that holds one of a fixed set of codes. */
export function codeOf<T extends string>(codes: readonly T[], value: string, column: string): T {
  if (!(codes as readonly string[]).includes(value))
    throw new Error(`column ${column} holds "${value}", which is not one of ${codes.join(', ')}`);
  return value as T;
}

/** A text column that holds JSON written by the store itself. */
export function jsonOf<T>(value: string): T {
  return JSON.parse(value) as T;
}
