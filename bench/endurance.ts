// Endurance: does the client's memory stay flat across many reconnects? The simulator (with a
// fault every 2 s) runs in its own process, so the heap measured is the client's alone.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Provider } from '../src/core/types.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { PolygonProvider } from '../src/providers/polygon/provider.js';
import { startSimulator } from '../src/simulator/index.js';
import type { Bench } from './report.js';

const SECONDS = 150;
/** Heap samples (every 10 s) averaged at the start, after warm-up, and at the end. */
const WINDOW_SAMPLES = 3;
const FAULT_EVERY_MS = 2000;
const BINANCE_SYMBOLS = 50;
const POLYGON_TICKERS = ['AAPL', 'MSFT', 'GOOGL', 'TSLA', 'AMZN', 'NVDA', 'META', 'SPY'];
const MB = 1e6;

interface EnduranceResult {
  /** Heap after GC every 10 s while streaming, MB. */
  samples: number[];
  binanceBars: number;
  polygonBars: number;
  reconnects: number;
  errors: number;
}

/** Child `sim`: the simulator at 600x, alternating drops and malformed frames on both venues. */
async function runSimulator(): Promise<void> {
  const sim = await startSimulator({
    seed: 9,
    speed: 600,
    start: Date.UTC(2024, 2, 5, 14, 30), // Tuesday 09:30 New York: Polygon trades (calendar)
    generatedBinanceSymbols: BINANCE_SYMBOLS,
  });
  process.stdout.write(`${JSON.stringify({ binance: sim.binance, polygon: sim.polygon })}\n`);
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    const venue = n % 2 === 1 ? 'binance' : 'polygon';
    if (n % 3 === 0) sim.faults.sendMalformed(2, venue);
    else sim.faults.dropConnections(venue);
  }, FAULT_EVERY_MS);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    void sim.close().then(() => process.exit(0));
  });
}

/** Child `client`: both providers stream for SECONDS; heap after GC sampled every 10 s. */
async function runClient(): Promise<EnduranceResult> {
  const script = fileURLToPath(import.meta.url);
  const sim: ChildProcess = spawn(process.execPath, [script, 'sim'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(
      createInterface({ input: sim.stdout as NodeJS.ReadableStream }),
      'line',
    )) as [string];
    const urls = JSON.parse(line) as {
      binance: { restUrl: string; wsUrl: string };
      polygon: { restUrl: string; wsUrl: string; apiKey: string };
    };
    const fast = { reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 500 };
    const binance = new BinanceProvider({
      symbols: Array.from(
        { length: BINANCE_SYMBOLS },
        (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
      ),
      interval: '1m',
      connection: 'combined',
      restBaseUrl: urls.binance.restUrl,
      wsBaseUrl: urls.binance.wsUrl,
      // One proactive rotation every 6 s of real time at 600x, on top of the faults.
      maxConnectionAgeMs: 3_600_000,
      ...fast,
    });
    const polygon = new PolygonProvider({
      symbols: POLYGON_TICKERS,
      interval: '5m',
      apiKey: urls.polygon.apiKey,
      restBaseUrl: urls.polygon.restUrl,
      wsBaseUrl: urls.polygon.wsUrl,
      ...fast,
    });
    const result: EnduranceResult = {
      samples: [],
      binanceBars: 0,
      polygonBars: 0,
      reconnects: 0,
      errors: 0,
    };
    for (const provider of [binance, polygon] as Provider[]) {
      provider.setOnStatusChange((status) => {
        if (status === 'reconnecting') result.reconnects += 1;
      });
    }
    const stop = AbortSignal.timeout(SECONDS * 1000);
    const consume = async (provider: Provider, count: 'binanceBars' | 'polygonBars') => {
      for await (const [, err] of provider.stream(stop)) {
        if (err) {
          if (err.fatal) throw err;
          result.errors += 1;
        } else result[count] += 1;
      }
    };
    const sampler = setInterval(() => {
      globalThis.gc?.();
      result.samples.push(process.memoryUsage().heapUsed / MB);
    }, 10_000);
    try {
      await Promise.all([consume(binance, 'binanceBars'), consume(polygon, 'polygonBars')]);
    } finally {
      clearInterval(sampler);
    }
    return result;
  } finally {
    sim.kill('SIGTERM');
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Client heap after GC over a 150 s run with a fault every 2 s: the mean of the last three
 * samples against the mean of the three after a 10 s warm-up. A leak per reconnect, timer or
 * listener makes the ratio grow; noise of a megabyte or so does not.
 */
export const enduranceBench: Bench = async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), 'client'],
    { maxBuffer: 1 << 20 },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as EnduranceResult;
  const early = mean(r.samples.slice(1, 1 + WINDOW_SAMPLES));
  const late = mean(r.samples.slice(-WINDOW_SAMPLES));
  return [
    {
      name: 'endurance: client heap after GC',
      workload:
        `Binance 50 symbols combined (1m) + Polygon 8 tickers (5m) at 600x for ${SECONDS} s, a drop or malformed ` +
        `burst every 2 s: ${r.binanceBars} + ${r.polygonBars} bars, ${r.reconnects} reconnects, ` +
        `${r.errors} in-band errors; heap every 10 s: ${r.samples.map((mb) => mb.toFixed(1)).join(' ')} MB; ` +
        'value = mean of the last 3 samples; simulator in its own process',
      value: late,
      baseline: '3 samples after 10 s warm-up',
      baselineValue: early,
      unit: 'MB',
      ratio: late / early,
      ratioMeaning: 'of the early heap (1.0 = flat)',
    },
  ];
};

// As a child of enduranceBench: `node endurance.js client` prints one JSON line; `sim` serves.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'sim') await runSimulator();
  else if (process.argv[2] === 'client') {
    process.stdout.write(`${JSON.stringify(await runClient())}\n`);
  }
}
