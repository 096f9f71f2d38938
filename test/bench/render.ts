// Re-renders RESULTS.md, chart.svg and links.svg from results.json (after a change to report.ts):
//   npx tsx test/bench/render.ts [dir]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Report, writeReport } from './report.js';

const dir = process.argv[2] ?? path.dirname(fileURLToPath(import.meta.url));
writeReport(JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Report, dir);
console.log(`rendered ${path.join(dir, 'RESULTS.md')}`);
