import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MarketData, MarketDataWriter } from '../src/core/types.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { startSimulator } from '../src/simulator/index.js';
import type { Bench, BenchRow } from './report.js';

/** Counts rows; nothing is stored (the bench measures paging, not storage). */
class CountingWriter implements MarketDataWriter {
  rows = 0;
  constructor(private readonly path: string) {}
  async initialize(): Promise<void> {}
  async write(_data: MarketData): Promise<void> {
    this.rows += 1;
  }
  async writeBatch(data: MarketData[]): Promise<void> {
    this.rows += data.length;
  }
  async finalize(): Promise<string> {
    return this.path;
  }
  async close(): Promise<void> {}
  getOutputPath(): string {
    return this.path;
  }
}

const LATENCY_MS = 50;
const START = new Date(Date.UTC(2024, 0, 1));
const END = new Date(Date.UTC(2024, 0, 15)); // 14 days of 1m bars = 20,161 bars = 21 pages

/**
 * Download throughput (bars/s) through `BinanceProvider.download` with 50 ms injected REST
 * latency: our concurrent paging (`downloadConcurrency` 4, the default) against sequential
 * paging (concurrency 1) in the same run, same simulator.
 */
export const downloadBench: Bench = async () => {
  const sim = await startSimulator({ seed: 3, speed: 1, start: Date.UTC(2024, 5, 1) });
  const dir = mkdtempSync(join(tmpdir(), 'argo-bench-'));
  try {
    sim.faults.setRestLatency(LATENCY_MS, 'binance');
    const run = async (concurrency: number): Promise<{ barsPerSec: number; bars: number }> => {
      const provider = new BinanceProvider({
        symbols: ['BTCUSDT'],
        interval: '1m',
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
        downloadConcurrency: concurrency,
      });
      const writer = new CountingWriter(join(dir, `c${concurrency}.json`));
      provider.configWriter(writer);
      const startedMs = performance.now();
      await provider.download({
        ticker: 'BTCUSDT',
        startDate: START,
        endDate: END,
        multiplier: 1,
        timespan: 'minute',
      });
      const seconds = (performance.now() - startedMs) / 1000;
      return { barsPerSec: writer.rows / seconds, bars: writer.rows };
    };
    await run(4); // warm-up (JIT, sockets)
    const sequential = await run(1);
    const concurrent = await run(4);
    const row: BenchRow = {
      name: 'download: Binance klines paging',
      workload: `${concurrent.bars} 1m bars (${Math.ceil(concurrent.bars / 1000)} pages of 1000), ${LATENCY_MS} ms injected REST latency, concurrency 4`,
      value: concurrent.barsPerSec,
      baseline: 'sequential paging, concurrency 1',
      baselineValue: sequential.barsPerSec,
      unit: 'bars/s',
      ratio: concurrent.barsPerSec / sequential.barsPerSec,
      ratioMeaning: 'faster',
    };
    return [row];
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
