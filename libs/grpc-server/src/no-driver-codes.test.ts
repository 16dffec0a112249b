import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The store turns driver errors into domain errors (DatabaseUnavailableError); this lib maps only domain
// errors. A driver code here would mean a second place deciding what a database failure is.
const DRIVER_VOCABULARY = [
  /\bE(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND)\b/,
  /\bPROTOCOL_[A-Z_]+/,
  /\bER_[A-Z_]+/,
  /\bSQLITE_[A-Z_]+/,
  /\bKnexTimeoutError\b/,
  /\berrno\b/,
  /['"](knex|mysql2|better-sqlite3)['"]/,
];

describe('libs/grpc-server', () => {
  it('knows no database driver error codes', () => {
    const found: string[] = [];
    for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(join(__dirname, file), 'utf8');
      for (const pattern of DRIVER_VOCABULARY) {
        const match = pattern.exec(text);
        if (match) found.push(`${file}: ${match[0]}`);
      }
    }
    expect(found).toEqual([]);
  });
});
