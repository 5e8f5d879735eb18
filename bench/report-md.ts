// Prints bench/results.json (the last `npm run bench`) as a Markdown table, for the README.
// `npx tsc -p tsconfig.bench.json && node dist-bench/bench/report-md.js`
import { readFile } from 'node:fs/promises';
import { type BenchRow, formatMarkdown } from './report.js';

const path = new URL('results.json', import.meta.url).pathname.replace(
  '/dist-bench/bench/',
  '/bench/',
);
const results = JSON.parse(await readFile(path, 'utf8')) as {
  date: string;
  node: string;
  machine: { cores: number; cpu?: string };
  loadAverage1m: { start: number; end: number };
  seconds: number;
  rows: BenchRow[];
};
process.stdout.write(`${formatMarkdown(results.rows)}\n\n`);
process.stdout.write(
  `${results.rows.length} rows in ${Math.round(results.seconds)} s, ${results.date.slice(0, 10)}, ${results.machine.cores} cores (${results.machine.cpu ?? 'unknown CPU'}), node ${results.node}, load average ${results.loadAverage1m.start.toFixed(1)} at start and ${results.loadAverage1m.end.toFixed(1)} at end.\n`,
);
