import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncDataset } from '../src/dataset/sync.js';
import { startSimulator } from '../src/simulator/index.js';
import type { Bench, BenchRow } from './report.js';

// Issue 18: 50 symbols × 30 days of 1m. BENCH_DATASET_SYMBOLS / BENCH_DATASET_DAYS shrink it for
// a quick check on a busy machine.
const SYMBOLS = Number(process.env.BENCH_DATASET_SYMBOLS ?? 50);
const DAYS = Number(process.env.BENCH_DATASET_DAYS ?? 30);
const FROM_MS = Date.UTC(2024, 3, 1);

/**
 * `syncDataset` of many symbols at once through one provider (one weight budget) into month
 * files, against a sync of one symbol with the same number of days, in the same run; plus the
 * second run's cost (requests per symbol) and the size on disk of one month of all symbols.
 */
export const datasetBench: Bench = async () => {
  const sim = await startSimulator({
    seed: 3,
    speed: 1,
    start: FROM_MS + (DAYS + 1) * 86_400_000,
    generatedBinanceSymbols: SYMBOLS,
  });
  const dir = mkdtempSync(join(tmpdir(), 'argo-bench-dataset-'));
  try {
    const symbols = Array.from(
      { length: SYMBOLS },
      (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
    );
    const run = async (data: string, list: string[]) => {
      const startedMs = performance.now();
      const summary = await syncDataset({
        data,
        provider: 'binance',
        symbols: list,
        interval: '1m',
        from: new Date(FROM_MS),
        to: new Date(FROM_MS + DAYS * 86_400_000 - 1),
        providerOptions: { restBaseUrl: sim.binance.restUrl },
      });
      if (summary.failed.length > 0) throw new Error(`bench sync failed: ${summary.failed}`);
      return { summary, seconds: (performance.now() - startedMs) / 1000 };
    };
    const single = await run(join(dir, 'one'), [symbols[0] as string]);
    const many = await run(join(dir, 'many'), symbols);
    const before = sim.stats.httpRequests('binance');
    await run(join(dir, 'many'), symbols);
    const secondRunRequests = (sim.stats.httpRequests('binance') - before) / SYMBOLS;
    const bytes = await monthBytes(join(dir, 'many', 'binance', '1m'), '2024-04.parquet');
    const manyRate = many.summary.barsWritten / many.seconds;
    const singleRate = single.summary.barsWritten / single.seconds;
    const row: BenchRow = {
      name: 'dataset: syncDataset, many symbols',
      workload: `${SYMBOLS} symbols × ${DAYS} days of 1m (${many.summary.barsWritten} bars) into month files; second run ${secondRunRequests.toFixed(2)} requests/symbol; one month of all symbols ${(bytes / 1e6).toFixed(1)} MB`,
      value: manyRate,
      baseline: `one symbol, ${DAYS} days`,
      baselineValue: singleRate,
      unit: 'bars/s',
      ratio: manyRate / singleRate,
      ratioMeaning: 'of the single-symbol rate',
    };
    return [row];
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

async function monthBytes(intervalDir: string, file: string): Promise<number> {
  let total = 0;
  for (const symbol of await readdir(intervalDir)) {
    total += await stat(join(intervalDir, symbol, file)).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}
