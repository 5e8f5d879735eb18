// The OKX leg of `npm run soak` (issue 20): OkxProvider streams against the simulator's OKX venue
// under random faults, persisting through StreamingDuckDBWriter, and every closed bar between
// each instrument's first and last yielded bar is checked: yielded and stored exactly once, in
// order, with the venue's values; OKX's own request limits never refused a request.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interval, MarketData } from '../src/core/types.js';
import { OkxProvider } from '../src/providers/okx/provider.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { readParquetBars } from '../src/writers/parquet-reader.js';
import { StreamingDuckDBWriter } from '../src/writers/streaming-duckdb-writer.js';
import { verify } from './soak.js';
import {
  COMMON_FAULTS,
  type CommonFault,
  faultSchedule,
  injectCommonFault,
} from './soak-faults.js';

/** Options of {@link runOkxSoak}. */
export interface OkxSoakOptions {
  durationMs: number;
  /** Instruments `SIM0000-USDT` … (default 50). */
  symbols?: number;
  /** Simulator clock speed (default 300: a 1m bar closes every 0.2 s). */
  speed?: number;
  /** Mean real time between two faults (default 3000 ms). */
  faultEveryMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** What the OKX leg saw. */
export interface OkxSoakReport {
  provider: 'okx';
  bars: number;
  stored: number;
  lost: number;
  duplicated: number;
  wrongValues: number;
  outOfOrder: number;
  lostExamples: string[];
  reconnects: number;
  nonFatalErrors: number;
  fatalError?: string;
  faults: Record<string, number>;
  /** Requests OKX's own per-endpoint limits refused (50011): must stay 0. */
  rateLimited: number;
  ok: boolean;
}

const INTERVAL: Interval = '1m';

/** Runs the OKX leg for `durationMs` and reports what it saw. */
export async function runOkxSoak(options: OkxSoakOptions): Promise<OkxSoakReport> {
  const log = options.log ?? (() => {});
  const count = options.symbols ?? 50;
  const seed = options.seed ?? 42;
  const sim = await startSimulator({
    seed,
    speed: options.speed ?? 300,
    start: Date.UTC(2024, 2, 5, 15, 0),
    binanceSymbols: [],
    generatedBinanceSymbols: count,
  });
  const instIds = Array.from({ length: count }, (_, i) => `SIM${String(i).padStart(4, '0')}-USDT`);
  const provider = new OkxProvider({
    symbols: instIds,
    interval: INTERVAL,
    restBaseUrl: sim.okx.restUrl,
    wsBaseUrl: sim.okx.wsUrl,
    silenceTimeoutMs: 1500,
    pingIntervalMs: 500,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 1000,
    connectTimeoutMs: 2000,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'argo-soak-okx-'));
  const faults: Record<string, number> = {};
  const stop = new AbortController();
  const faultLoop = injectFaults(sim, options.faultEveryMs ?? 3000, seed, faults, stop.signal, log);
  const stopTimer = setTimeout(() => stop.abort(), options.durationMs);
  try {
    const writer = new StreamingDuckDBWriter(dataDir, 'okx', INTERVAL);
    await writer.initialize();
    const yielded = new Map<string, MarketData[]>();
    let reconnects = 0;
    let nonFatalErrors = 0;
    let fatalError: string | undefined;
    provider.setOnStatusChange((status) => {
      if (status === 'reconnecting') reconnects++;
    });
    try {
      for await (const [bar, err] of provider.stream(stop.signal)) {
        if (err) {
          if (err.fatal) {
            fatalError = `${err.code}: ${err.message}`;
            break;
          }
          nonFatalErrors++;
          continue;
        }
        let list = yielded.get(bar.symbol);
        if (!list) {
          list = [];
          yielded.set(bar.symbol, list);
        }
        list.push(bar);
        await writer.write(bar);
      }
      await writer.finalize();
    } finally {
      await writer.close();
    }
    stop.abort();
    await faultLoop;
    const stored = await readParquetBars(join(dataDir, `stream_data_okx_${INTERVAL}.parquet`));
    const checked = verify('okx', yielded, stored, sim);
    const rateLimited = sim.stats.rateLimitRefusals(429, 'okx');
    if (checked.lost > 0) log(`okx: lost e.g. ${checked.lostExamples.join(' ')}`);
    const ok =
      rateLimited === 0 &&
      checked.lost === 0 &&
      checked.duplicated === 0 &&
      checked.wrongValues === 0 &&
      checked.outOfOrder === 0 &&
      fatalError === undefined &&
      checked.bars > 0 &&
      checked.stored === checked.bars;
    return {
      ...checked,
      provider: 'okx',
      reconnects,
      nonFatalErrors,
      ...(fatalError ? { fatalError } : {}),
      faults,
      rateLimited,
      ok,
    };
  } finally {
    clearTimeout(stopTimer);
    stop.abort();
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function injectFaults(
  sim: Simulator,
  meanEveryMs: number,
  seed: number,
  counts: Record<string, number>,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  return faultSchedule(seed ^ 0x9e3779b9, meanEveryMs, signal, (random) => {
    const fault = COMMON_FAULTS[Math.floor(random() * COMMON_FAULTS.length)] as CommonFault;
    counts[fault] = (counts[fault] ?? 0) + 1;
    log(`fault: ${fault} on okx`);
    // OKX's 429 (code 50011) carries no Retry-After.
    injectCommonFault(sim, fault, 'okx', random);
  });
}
