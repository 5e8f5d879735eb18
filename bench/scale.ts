import type { MarketData } from '../src/core/types.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { startSimulator } from '../src/simulator/index.js';
import type { Bench, BenchRow } from './report.js';

const MB = 2 ** 20;

function rssMb(): number {
  return process.memoryUsage().rss / MB;
}

/** Streams `symbolCount` symbols on combined sockets for `seconds`; returns peak RSS and bars. */
async function streamFor(
  symbolCount: number,
  seconds: number,
  consumeDelayMs: number,
  flood?: { barsPerStream: number; ratePerSec: number },
): Promise<{ peakRssMb: number; bars: number; baseRssMb: number }> {
  const sim = await startSimulator({
    seed: 11,
    speed: flood ? 1 : 60,
    start: Date.UTC(2024, 5, 3),
    binanceSymbols: [],
    generatedBinanceSymbols: symbolCount,
    ...(flood ? { binanceFlood: flood } : {}),
  });
  const symbols = Array.from(
    { length: symbolCount },
    (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
  );
  const provider = new BinanceProvider({
    symbols,
    interval: '1m',
    connection: 'combined',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
  });
  globalThis.gc?.();
  const baseRssMb = rssMb();
  let peakRssMb = baseRssMb;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, rssMb());
  }, 200);
  const stop = AbortSignal.timeout(seconds * 1000);
  let bars = 0;
  try {
    for await (const [bar, err] of provider.stream(stop)) {
      if (err) {
        if (err.fatal) throw err;
        continue;
      }
      bars += touch(bar);
      if (consumeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, consumeDelayMs));
    }
  } finally {
    clearInterval(sampler);
    await sim.close();
  }
  return { peakRssMb: Math.max(peakRssMb, rssMb()), bars, baseRssMb };
}

function touch(bar: MarketData): number {
  return bar.close > 0 ? 1 : 0;
}

/**
 * Memory at scale: 1000 symbols on combined sockets vs 10 symbols; and a consumer 10× slower
 * than the feed for 30 s vs one that keeps up (bounded queue: reads pause, memory stays flat).
 */
export const scaleBench: Bench = async () => {
  const rows: BenchRow[] = [];
  const small = await streamFor(10, 10, 0);
  const large = await streamFor(1000, 10, 0);
  rows.push({
    name: 'scale: RSS, 1000 symbols streaming',
    workload: `Binance combined, 1m bars at 60x (1000 symbols: ${large.bars} bars in 10 s), peak RSS`,
    value: large.peakRssMb,
    baseline: '10 symbols',
    baselineValue: small.peakRssMb,
    unit: 'MB',
    ratio: large.peakRssMb / small.peakRssMb,
    ratioMeaning: 'of the 10-symbol RSS',
  });
  // 200 streams flooded at 2000 bars/s; the slow consumer takes 5 ms per bar (200 bars/s).
  const flood = { barsPerStream: 1000, ratePerSec: 2000 };
  const fast = await streamFor(200, 30, 0, flood);
  const slow = await streamFor(200, 30, 5, flood);
  rows.push({
    name: 'scale: RSS, consumer 10x slower than feed',
    workload: `200 symbols flooded at 2000 bars/s for 30 s; slow consumer 5 ms/bar read ${slow.bars} bars, fast one ${fast.bars}`,
    value: slow.peakRssMb,
    baseline: 'consumer that keeps up',
    baselineValue: fast.peakRssMb,
    unit: 'MB',
    ratio: slow.peakRssMb / fast.peakRssMb,
    ratioMeaning: 'of the keeping-up RSS',
  });
  return rows;
};
