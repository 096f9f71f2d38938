import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkProofs, load, README, testTitles, withTable } from '../compat/table.js';

describe('compatibility table', () => {
  it('every operation of R2’s table is proved by a test that exists', async () => {
    const { seed, proofs } = await load();
    expect(seed.length).toBeGreaterThan(70);
    expect(await checkProofs(seed, proofs)).toEqual([]);
  });

  it('flags rows without proof and proofs naming missing tests', async () => {
    const { seed } = await load();
    const problems = await checkProofs(seed.slice(0, 2), {
      [seed[0]?.name as string]: { tests: ['test/compat.test.ts > no such test'] },
    });
    expect(problems).toEqual([`${seed[0]?.name}: no test 'no such test' in test/compat.test.ts`, `${seed[1]?.name}: no proving test`]);
    expect(testTitles("it('a \\'b\\'', () => {}); it(\"c\", f)")).toEqual(new Set(["a 'b'", 'c']));
  });

  it('README.md holds the table as generated (run `pnpm --filter @chute/local-r2 run compat`)', async () => {
    const { table } = await load();
    const readme = await readFile(README, 'utf8');
    expect(withTable(readme, table)).toBe(readme);
  });
});
