// Rewrites the compatibility table in README.md; refuses while a row lacks an existing proving test.
import { readFile, writeFile } from 'node:fs/promises';
import { checkProofs, load, README, withTable } from './table.js';

const { seed, proofs, table } = await load();
const problems = await checkProofs(seed, proofs);
if (problems.length) {
  console.error(`compat: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
await writeFile(README, withTable(await readFile(README, 'utf8'), table));
console.log(`compat: README table written (${seed.length} operations)`);
