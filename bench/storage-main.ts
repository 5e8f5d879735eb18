// Runs only the storage benchmark:
//   npx tsc -p tsconfig.bench.json && node dist-bench/bench/storage-main.js
import { formatTable } from './report.js';
import { storageBench } from './storage.js';

const startedMs = performance.now();
const rows = await storageBench();
process.stdout.write(`${formatTable(rows)}\n`);
process.stdout.write(
  `storage bench took ${((performance.now() - startedMs) / 1000).toFixed(1)} s\n`,
);
