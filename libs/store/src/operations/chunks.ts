/**
 * Rows split into statements of at most `size`: SQLite refuses a multi-row INSERT of more than 500 rows
 * (it compiles them into one compound SELECT), and very long IN lists make slow plans everywhere.
 */
export function chunks<T>(rows: readonly T[], size = 200): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < rows.length; i += size) result.push(rows.slice(i, i + size));
  return result;
}
