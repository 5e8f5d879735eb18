// `npm run bench`: every benchmark in one process tree against the simulator on 127.0.0.1, one
// table, and bench/results.json. Each row compares with a baseline measured in the same run.
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { backfillRssBench } from './backfill-rss.js';
import { busBench } from './bus.js';
import { datasetBench } from './dataset.js';
import { downloadBench } from './download.js';
import { enduranceBench } from './endurance.js';
import { metricsCostBench } from './metrics-cost.js';
import { type Bench, type BenchRow, formatTable } from './report.js';
import { scaleBench } from './scale.js';
import { simFlood } from './sim-flood.js';
import { storageBench } from './storage.js';
import { streamBench } from './stream.js';
import { venueBench } from './venues.js';
import { okxVenueBench } from './venues-okx.js';

const benches: [string, Bench][] = [
  ['simulator', simFlood],
  ['stream', streamBench],
  ['download', downloadBench],
  ['storage', storageBench],
  ['scale', scaleBench],
  ['endurance', enduranceBench],
  ['dataset', datasetBench],
  ['bus', busBench],
  ['backfill', backfillRssBench],
  ['metrics', metricsCostBench],
  ['venues', venueBench],
  ['venues-okx', okxVenueBench],
];
const only = process.argv.slice(2);
const rows: BenchRow[] = [];
const startedMs = performance.now();
// The machine's 1-minute load average before and after: on a shared machine it explains noise.
const loadAtStart = loadavg()[0];
for (const [name, bench] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`running ${name} …\n`);
  rows.push(...(await bench()));
}
const seconds = (performance.now() - startedMs) / 1000;
process.stdout.write(`${formatTable(rows)}\n`);
const loadAtEnd = loadavg()[0];
process.stdout.write(
  `load average ${loadAtStart?.toFixed(1)} at start, ${loadAtEnd?.toFixed(1)} at end\n`,
);
process.stdout.write(
  `${rows.length} rows in ${seconds.toFixed(0)} s on ${cpus().length} cores, node ${process.version}\n`,
);
await writeFile(
  new URL('results.json', import.meta.url).pathname.replace('/dist-bench/bench/', '/bench/'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      // Every row's `workload` says what it measured; the machine says where.
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, platform: process.platform },
      loadAverage1m: { start: loadAtStart, end: loadAtEnd },
      seconds,
      rows,
    },
    null,
    2,
  )}\n`,
);
