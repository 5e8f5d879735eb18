// Issue 21 point 6: the cost of metrics. The same Binance flood streamed through
// `BinanceProvider.stream()` with a prom-client registry (scraped every second, as a
// Prometheus would but faster) and without; runs alternate so drift hits both sides alike.
import { Registry } from 'prom-client';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import type { Bench, BenchRow } from './report.js';
import { forkSimulator } from './sim-process.js';

const SYMBOL_COUNT = 200;
const BARS_PER_STREAM = 500; // 100,000 closed bars per run
/** Our choice: scrape far more often than Prometheus' default 15 s, so the row is pessimistic. */
const SCRAPE_EVERY_MS = 1000;
const ROUNDS = 4;

const symbols = Array.from(
  { length: SYMBOL_COUNT },
  (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
);

/** Closed bars per second of one run through `stream()`, with `registry` or without metrics. */
async function run(registry: Registry | undefined): Promise<number> {
  const sim = await forkSimulator({
    seed: 5,
    speed: 1,
    start: Date.UTC(2024, 5, 1),
    binanceSymbols: [],
    generatedBinanceSymbols: SYMBOL_COUNT,
    binanceFlood: { barsPerStream: BARS_PER_STREAM },
  });
  const scraper =
    registry === undefined
      ? undefined
      : setInterval(() => {
          registry.metrics().catch(() => {});
        }, SCRAPE_EVERY_MS);
  try {
    const provider = new BinanceProvider({
      symbols,
      interval: '1m',
      connection: 'combined',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      ...(registry ? { metrics: registry } : {}),
    });
    const expected = SYMBOL_COUNT * BARS_PER_STREAM;
    let count = 0;
    let startedMs = 0;
    provider.setOnStatusChange((status) => {
      if (status === 'connected') startedMs = performance.now();
    });
    for await (const [, err] of provider.stream()) {
      if (err) throw err;
      count += 1;
      if (count === expected) break;
    }
    if (registry !== undefined) await registry.metrics();
    return count / ((performance.now() - startedMs) / 1000);
  } finally {
    if (scraper) clearInterval(scraper);
    await sim.close();
  }
}

/** `stream: metrics on vs off`: bars/s with a registry, against the same run without. */
export const metricsCostBench: Bench = async () => {
  await run(undefined); // warm-up
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    off.push(await run(undefined));
    on.push(await run(new Registry()));
  }
  const best = (values: number[]) => Math.max(...values);
  const value = best(on);
  const baselineValue = best(off);
  const row: BenchRow = {
    name: 'stream: metrics on (goal >= 0.95x off)',
    workload: `flood, ${SYMBOL_COUNT} symbols combined, ${SYMBOL_COUNT * BARS_PER_STREAM} closed bars, registry scraped every ${SCRAPE_EVERY_MS} ms; best of ${ROUNDS} alternating runs each`,
    value,
    baseline: 'same run, metrics off',
    baselineValue,
    unit: 'bars/s',
    ratio: value / baselineValue,
    ratioMeaning: 'of metrics off',
  };
  return [row];
};
