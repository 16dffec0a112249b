/** The bundle `npm start` runs (the test target builds it first) holds production code only. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLE = join(__dirname, '../../../dist/apps/allocation/main.js');
const TEST_CODE = /(^|\/)testing(\/|\.ts$)|\.test\.ts$/;

describe('the production bundle', () => {
  const sources = (JSON.parse(readFileSync(`${BUNDLE}.map`, 'utf8')) as { sources: string[] }).sources;

  it('is built from the service and the libs it uses', () => {
    for (const entry of [
      'apps/allocation/src/main.ts',
      'libs/store/src/mutation.ts',
      'libs/jobs/src/periodic-job.ts',
    ]) {
      expect(sources.some((source) => source.endsWith(entry))).toBe(true);
    }
  });

  it('holds no test helper and no test', () => {
    expect(sources.filter((source) => TEST_CODE.test(source))).toEqual([]);
    expect(readFileSync(BUNDLE, 'utf8')).not.toContain('INVENTORY_TEST_MYSQL_URL');
  });
});
