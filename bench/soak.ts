import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Interval, MarketData, Provider } from '../src/core/types.js';
import { schedulerHost, sharedRestScheduler } from '../src/http/rest-scheduler.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { PolygonProvider } from '../src/providers/polygon/provider.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { readParquetBars } from '../src/writers/parquet-reader.js';
import { StreamingDuckDBWriter } from '../src/writers/streaming-duckdb-writer.js';
import { bybitSoakLeg } from './soak-bybit.js';
import { COMMON_FAULTS, faultSchedule, injectCommonFault } from './soak-faults.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  durationMs: number;
  /** Binance symbols (default 50); Polygon gets as many, at most 500. */
  symbols?: number;
  /**
   * Simulator clock speed (default 300: a 1m bar closes every 0.2 s; at scale, more than 200
   * symbols, 60: 2,000 symbols then close 2,000 bars per second, which one process holding the
   * simulator, both clients and two DuckDB stores can persist on 2 cores).
   */
  speed?: number;
  /** Mean real time between two faults (default 3000 ms). */
  faultEveryMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** Per-provider outcome: everything compared with the simulator's own bars. */
export interface SoakVenueReport {
  provider: 'binance' | 'polygon' | 'bybit' | 'okx';
  bars: number;
  stored: number;
  lost: number;
  duplicated: number;
  wrongValues: number;
  outOfOrder: number;
  /**
   * Symbols that yielded no bar at all: their bars are not counted as lost (that check runs
   * between a symbol's first and last bar), so this must be 0 too.
   */
  silentSymbols: number;
  /** Up to 5 missing bars as `SYMBOL@ISO time`, to start an investigation from. */
  lostExamples: string[];
  reconnects: number;
  nonFatalErrors: number;
  fatalError?: string;
}

export interface SoakReport {
  faults: Record<string, number>;
  venues: SoakVenueReport[];
  peakRssMb: number;
  /** Requests Binance's weight limit refused (429) and bans (418): both must stay 0. */
  rateLimited: { status429: number; status418: number };
  /** Bybit's limit refusals: its 403 ban (counted as 418 by the simulator); must stay 0. */
  bybitBans?: number;
  ok: boolean;
}

const INTERVAL: Interval = '1m';
const FAULTS = [...COMMON_FAULTS, 'rotate'] as const;
/** Our choice: at this many symbols the soak becomes a scale run (real-time update rate). */
const SCALE_SYMBOLS = 200;
/** Our choice: clock speed of a scale run (see {@link SoakOptions.speed}). */
const SCALE_SPEED = 60;
/** Our choice: client ping interval of a scale run (see the resilience settings). */
const SCALE_PING_INTERVAL_MS = 5000;
/** Polygon tickers in a scale run at most (issue 14 point 9). */
const MAX_POLYGON_TICKERS = 500;
type FaultName = (typeof FAULTS)[number];
/** Our choice: writes a soak consumer has queued and not yet seen committed, at most. */
const WRITES_IN_FLIGHT = 512;

/**
 * Streams both providers against a simulator under random faults, persisting through
 * StreamingDuckDBWriter, then checks every closed bar between each symbol's first and last
 * yielded bar was yielded and stored exactly once, in order, with the exchange's values.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const symbolCount = options.symbols ?? 50;
  const tickerCount = Math.min(symbolCount, MAX_POLYGON_TICKERS);
  const scale = symbolCount > SCALE_SYMBOLS;
  const seed = options.seed ?? 42;
  const sim = await startSimulator({
    seed,
    speed: options.speed ?? (scale ? SCALE_SPEED : 300),
    start: Date.UTC(2024, 2, 5, 15, 0), // a Tuesday, US market hours: Polygon trades most minutes
    generatedBinanceSymbols: symbolCount,
    polygonTickers: Array.from({ length: tickerCount }, (_, i) => tickerName(i)),
    // Binance's real weight limit (PROTOCOLS.md §1.3), stated so the soak always runs at it.
    binanceWeightLimit: 6000,
    // At scale, in-progress updates at the venue's real-time rate, not `speed` times it.
    ...(scale ? { binanceUpdateFloorMs: 2000 } : {}),
  });
  // The venue counts its weight minute on its own (accelerated) clock; so does the scheduler.
  sharedRestScheduler(schedulerHost(sim.binance.restUrl), {
    windows: [{ limit: 6000, windowMs: 60_000 }],
    clock: sim.clock,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'argo-soak-'));
  const faults: Record<string, number> = {};
  let peakRssBytes = process.memoryUsage().rss;
  const stop = new AbortController();
  const resilience = {
    silenceTimeoutMs: 1500,
    pingIntervalMs: 500,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 1000,
    connectTimeoutMs: 2000,
    // Binance counts our pings, our pongs and SUBSCRIBEs against 5 messages/s per connection
    // (PROTOCOLS.md §1.6) and closes the socket past it (1008 `Too many requests`). A socket of
    // 1,000 streams SUBSCRIBEs most of them at 4 messages/s; with our pings every 0.5 s and the
    // simulator's ping each second, every handshake was cut, so a scale run yielded no Binance
    // bar. Data frames keep a busy socket alive; the pings only matter on a quiet one.
    ...(scale ? { pingIntervalMs: SCALE_PING_INTERVAL_MS } : {}),
  };
  const binanceSymbols = Array.from(
    { length: symbolCount },
    (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
  );
  const binance = new BinanceProvider({
    symbols: binanceSymbols,
    interval: INTERVAL,
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
    connection: 'combined',
    ...resilience,
  });
  const polygon = new PolygonProvider({
    symbols: Array.from({ length: tickerCount }, (_, i) => tickerName(i)),
    interval: INTERVAL,
    apiKey: sim.polygon.apiKey,
    restBaseUrl: sim.polygon.restUrl,
    wsBaseUrl: sim.polygon.wsUrl,
    ...resilience,
  });
  const memoryTimer = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
  }, 250);
  const progress = progressLog(sim, log);
  const faultLoop = injectFaults(sim, options.faultEveryMs ?? 3000, seed, faults, stop.signal, log);
  const stopTimer = setTimeout(() => stop.abort(), options.durationMs);
  try {
    const venues = await Promise.all([
      consume('binance', binance, symbolCount, sim, dataDir, stop.signal, log),
      consume('polygon', polygon, tickerCount, sim, dataDir, stop.signal, log),
      bybitSoakLeg(
        { sim, symbols: binanceSymbols, resilience, dataDir, options, consume, faults },
        stop.signal,
      ),
    ]);
    await faultLoop;
    const rateLimited = {
      status429: sim.stats.rateLimitRefusals(429, 'binance'),
      status418: sim.stats.rateLimitRefusals(418, 'binance'),
    };
    const bybitBans = sim.stats.rateLimitRefusals(418, 'bybit');
    const ok =
      bybitBans === 0 &&
      rateLimited.status429 === 0 &&
      rateLimited.status418 === 0 &&
      venues.every(
        (v) =>
          v.lost === 0 &&
          v.silentSymbols === 0 &&
          v.duplicated === 0 &&
          v.wrongValues === 0 &&
          v.outOfOrder === 0 &&
          v.fatalError === undefined &&
          v.bars > 0 &&
          v.stored === v.bars,
      );
    return {
      faults,
      venues,
      peakRssMb: Math.round(peakRssBytes / 2 ** 20),
      rateLimited,
      bybitBans,
      ok,
    };
  } finally {
    clearTimeout(stopTimer);
    clearInterval(memoryTimer);
    progress.stop();
    stop.abort();
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Bars yielded so far per venue, for the progress lines. */
const yieldedCount: Record<string, number> = {};

/**
 * Every 10 s: bars yielded per venue, the venue clock, the event loop's p99 delay and RSS, so
 * a long or large run shows where it stalls instead of only a verdict at the end.
 */
function progressLog(sim: Simulator, log: (line: string) => void): { stop(): void } {
  for (const venue of Object.keys(yieldedCount)) delete yieldedCount[venue];
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const timer = setInterval(() => {
    const p99 = delay.percentile(99) / 1e6;
    delay.reset();
    log(
      `progress: ${Object.entries(yieldedCount)
        .map(([venue, bars]) => `${venue} ${bars} bars`)
        .join(
          ', ',
        )}, venue ${new Date(sim.clock.now()).toISOString()}, event-loop p99 ${p99.toFixed(0)} ms, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
    );
  }, 10_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      delay.disable();
    },
  };
}

function tickerName(i: number): string {
  // Polygon tickers are upper-case letters: AAAA, AAAB, …
  let n = i;
  let name = '';
  for (let k = 0; k < 4; k++) {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26);
  }
  return `Q${name}`;
}

/** Streams `provider` until `signal`, persisting and verifying its bars (one soak leg). */
export async function consume(
  name: SoakVenueReport['provider'],
  provider: Provider,
  symbolCount: number,
  sim: Simulator,
  dataDir: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<SoakVenueReport> {
  const writer = new StreamingDuckDBWriter(dataDir, name, INTERVAL);
  await writer.initialize();
  const yielded = new Map<string, MarketData[]>();
  let reconnects = 0;
  let nonFatalErrors = 0;
  let fatalError: string | undefined;
  const inFlight: Promise<void>[] = [];
  provider.setOnStatusChange((status) => {
    if (status === 'reconnecting') reconnects++;
  });
  try {
    for await (const [bar, err] of provider.stream(signal)) {
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
      yieldedCount[name] = (yieldedCount[name] ?? 0) + 1;
      // Writes are pipelined (the writer commits all queued writes as one group), at most
      // WRITES_IN_FLIGHT at a time: awaiting each one alone caps a consumer at one DuckDB
      // commit per bar (~100 bars/s here), far below 2,000 symbols' rate, and the stream's
      // backpressure then holds the socket.
      inFlight.push(writer.write(bar));
      if (inFlight.length >= WRITES_IN_FLIGHT) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight.splice(0));
    await writer.finalize();
  } finally {
    await writer.close();
  }
  const stored = await readParquetBars(join(dataDir, `stream_data_${name}_${INTERVAL}.parquet`));
  const report = verify(name, yielded, stored, sim);
  const silentSymbols = symbolCount - yielded.size;
  if (report.lost > 0) log(`${name}: lost e.g. ${report.lostExamples.join(' ')}`);
  log(
    `${name}: ${report.bars} bars, stored ${report.stored}, lost ${report.lost}, duplicated ${report.duplicated}, symbols without a bar ${silentSymbols}, reconnects ${reconnects}`,
  );
  return {
    ...report,
    silentSymbols,
    reconnects,
    nonFatalErrors,
    ...(fatalError ? { fatalError } : {}),
  };
}

/**
 * Every closed bar between each symbol's first and last yielded bar, against the simulator's
 * truth: yielded and stored exactly once, in order, with the venue's values (every soak leg).
 */
export function verify(
  name: SoakVenueReport['provider'],
  yielded: Map<string, MarketData[]>,
  stored: MarketData[],
  sim: Simulator,
): Omit<SoakVenueReport, 'reconnects' | 'nonFatalErrors' | 'fatalError' | 'silentSymbols'> {
  let bars = 0;
  let lost = 0;
  let duplicated = 0;
  let wrongValues = 0;
  let outOfOrder = 0;
  const lostExamples: string[] = [];
  for (const [symbol, list] of yielded) {
    bars += list.length;
    const first = list[0];
    const last = list[list.length - 1];
    if (!first || !last) continue;
    // Bybit and OKX serve the Binance symbols' market (src/simulator/index.ts); OKX names an
    // instrument with a dash (BTC-USDT for BTCUSDT).
    const fromMs = first.time.getTime();
    const toMs = last.time.getTime();
    const truth =
      name === 'polygon'
        ? sim.market.polygonBars(symbol, 1, 'minute', fromMs, toMs)
        : sim.market.binanceBars(symbol.replace('-', ''), INTERVAL, fromMs, toMs);
    const seen = new Map<number, number>();
    let previousMs = -Infinity;
    for (const bar of list) {
      const openMs = bar.time.getTime();
      if (openMs <= previousMs) outOfOrder++;
      previousMs = openMs;
      seen.set(openMs, (seen.get(openMs) ?? 0) + 1);
    }
    for (const count of seen.values()) if (count > 1) duplicated += count - 1;
    const byOpen = new Map(list.map((bar) => [bar.time.getTime(), bar]));
    for (const expected of truth) {
      const got = byOpen.get(expected.openTimeMs);
      if (!got) {
        lost++;
        if (lostExamples.length < 5) {
          lostExamples.push(`${symbol}@${new Date(expected.openTimeMs).toISOString()}`);
        }
        continue;
      }
      if (
        got.open !== expected.open ||
        got.high !== expected.high ||
        got.low !== expected.low ||
        got.close !== expected.close ||
        got.volume !== expected.volume
      ) {
        wrongValues++;
      }
    }
  }
  const storedKeys = new Set(stored.map((bar) => `${bar.symbol}@${bar.time.getTime()}`));
  return {
    provider: name,
    bars,
    stored: storedKeys.size,
    lost,
    duplicated,
    wrongValues,
    outOfOrder,
    lostExamples,
  };
}

function injectFaults(
  sim: Simulator,
  meanEveryMs: number,
  seed: number,
  counts: Record<string, number>,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  return faultSchedule(seed, meanEveryMs, signal, (random) => {
    const fault = FAULTS[Math.floor(random() * FAULTS.length)] as FaultName;
    const venue = random() < 0.5 ? 'binance' : 'polygon';
    counts[fault] = (counts[fault] ?? 0) + 1;
    log(`fault: ${fault} on ${venue}`);
    // A reconnect storm: every Binance socket is replaced at once (each symbol backfills).
    if (fault === 'rotate') sim.faults.serverShutdown('binance');
    else injectCommonFault(sim, fault, venue, random, 1);
  });
}

// The OKX leg (issue 20), in its own module so each venue's leg stays a separate function.
export { type OkxSoakOptions, type OkxSoakReport, runOkxSoak } from './soak-okx.js';
