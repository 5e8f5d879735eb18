import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MarketData } from '../src/core/types.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import type { Bench, BenchRow } from './report.js';
import { forkSimulator } from './sim-process.js';

const MB = 2 ** 20;

function rssMb(): number {
  return process.memoryUsage().rss / MB;
}

interface ScaleCase {
  symbolCount: number;
  seconds: number;
  consumeDelayMs: number;
  flood?: { barsPerStream: number; ratePerSec: number };
}
interface ScaleResult {
  peakRssMb: number;
  bars: number;
  baseRssMb: number;
}

/** Runs one case in a fresh Node process, so earlier benchmarks do not inflate its RSS. */
async function inChild(scaleCase: ScaleCase): Promise<ScaleResult> {
  const script = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', script, JSON.stringify(scaleCase)],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ScaleResult;
}

/** Streams `symbolCount` symbols on combined sockets for `seconds`; returns peak RSS and bars. */
export async function streamFor(
  symbolCount: number,
  seconds: number,
  consumeDelayMs: number,
  flood?: { barsPerStream: number; ratePerSec: number },
): Promise<{ peakRssMb: number; bars: number; baseRssMb: number }> {
  // The simulator runs in its own process: the RSS measured here is the client's alone.
  const sim = await forkSimulator({
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
  const small = await inChild({ symbolCount: 10, seconds: 10, consumeDelayMs: 0 });
  const large = await inChild({ symbolCount: 1000, seconds: 10, consumeDelayMs: 0 });
  rows.push({
    name: 'scale: RSS, 1000 symbols streaming',
    workload: `Binance combined, 1m bars at 60x (1000 symbols: ${large.bars} bars in 10 s); peak RSS of a fresh client process (simulator in another process)`,
    value: large.peakRssMb,
    baseline: '10 symbols',
    baselineValue: small.peakRssMb,
    unit: 'MB',
    ratio: large.peakRssMb / small.peakRssMb,
    ratioMeaning: 'of the 10-symbol RSS',
  });
  // 200 streams flooded at 2000 bars/s; the slow consumer takes 5 ms per bar (200 bars/s).
  const flood = { barsPerStream: 1000, ratePerSec: 2000 };
  const fast = await inChild({ symbolCount: 200, seconds: 30, consumeDelayMs: 0, flood });
  const slow = await inChild({ symbolCount: 200, seconds: 30, consumeDelayMs: 5, flood });
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

// As a child of scaleBench: `node scale.js '{"symbolCount":…}'` prints one JSON result line.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const scaleCase = JSON.parse(process.argv[2]) as ScaleCase;
  const result = await streamFor(
    scaleCase.symbolCount,
    scaleCase.seconds,
    scaleCase.consumeDelayMs,
    scaleCase.flood,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
