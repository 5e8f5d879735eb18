// Runs the Binance benchmarks alone:
//   npx tsc -p tsconfig.bench.json && node dist-bench/bench/binance-main.js
import { downloadBench } from './download.js';
import { formatTable } from './report.js';
import { streamBench } from './stream.js';

const rows = [...(await streamBench()), ...(await downloadBench())];
console.log(formatTable(rows));
