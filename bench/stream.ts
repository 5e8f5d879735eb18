import { WebSocket } from 'ws';
import type { MarketData } from '../src/core/types.js';
import { parseKlineFrame } from '../src/providers/binance/frames.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { BinanceRest } from '../src/providers/binance/rest.js';
import { binanceStreamAdapter } from '../src/providers/binance/stream.js';
import type { FrameSink, StreamAdapter } from '../src/stream/adapter.js';
import { runResilientStream } from '../src/stream/engine.js';
import type { Bench, BenchRow } from './report.js';
import { forkSimulator } from './sim-process.js';

const SYMBOL_COUNT = 200;
const BARS_PER_STREAM = 500; // 100,000 closed bars per run
const RATE_PER_SEC = 10_000;
const LATENCY_SECONDS = 3;

const symbols = Array.from(
  { length: SYMBOL_COUNT },
  (_, i) => `SIM${String(i).padStart(4, '0')}USDT`,
);
const streamPath = (): string =>
  `/stream?streams=${symbols.map((s) => `${s.toLowerCase()}@kline_1m`).join('/')}`;

// The flood runs in its own process, so the client's CPU is its own.
async function startFloodSim(flood: { barsPerStream?: number; ratePerSec?: number }) {
  return forkSimulator({
    seed: 5,
    speed: 1,
    start: Date.UTC(2024, 5, 1),
    binanceSymbols: [],
    generatedBinanceSymbols: SYMBOL_COUNT,
    binanceFlood: flood,
  });
}

/** The floor: one `ws` socket, `JSON.parse` per frame, count final klines. Nothing else. */
async function rawFloor(wsUrl: string, expected: number): Promise<number> {
  const ws = new WebSocket(`${wsUrl}${streamPath()}`, { perMessageDeflate: false });
  let count = 0;
  let startedMs = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      startedMs = performance.now();
    });
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { data?: { k?: { x?: boolean } } };
      if (frame.data?.k?.x === true) count += 1;
      if (count === expected) resolve();
    });
    ws.on('error', reject);
  });
  const seconds = (performance.now() - startedMs) / 1000;
  ws.close(1000);
  return count / seconds;
}

/** Ours: closed bars through `BinanceProvider.stream()` (validation, engine, dedup, queue). */
async function throughStream(restUrl: string, wsUrl: string, expected: number): Promise<number> {
  const provider = new BinanceProvider({
    symbols,
    interval: '1m',
    connection: 'combined',
    restBaseUrl: restUrl,
    wsBaseUrl: wsUrl,
  });
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
  return count / ((performance.now() - startedMs) / 1000);
}

/** Percentile of a sorted array. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Latency from the simulator's send (`E` = wall clock at send, flood mode) to the consumer of
 * the engine, at a fixed 10k msg/s. The stream is the provider's own adapter and engine; the
 * adapter's sink is wrapped only to remember each bar's `E`.
 */
async function latency(restUrl: string, wsUrl: string, raw: boolean): Promise<number[]> {
  const samples: number[] = [];
  const deadlineMs = performance.now() + LATENCY_SECONDS * 1000;
  if (raw) {
    const ws = new WebSocket(`${wsUrl}${streamPath()}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { data?: { E?: number } };
        if (frame.data?.E !== undefined) samples.push(Date.now() - frame.data.E);
        if (performance.now() > deadlineMs) resolve();
      });
      ws.on('error', reject);
    });
    ws.close(1000);
    return samples.sort((a, b) => a - b);
  }
  const rest = new BinanceRest({ baseUrl: restUrl, timeoutMs: 10_000, retry: {} });
  const inner = binanceStreamAdapter({
    rest,
    wsBaseUrl: wsUrl,
    symbols,
    interval: '1m',
    connection: 'combined',
    maxNewConnections: 300,
    newConnectionWindowMs: 300_000,
  });
  const sentAt = new WeakMap<MarketData, number>();
  let lastEventMs = 0;
  const adapter: StreamAdapter = {
    ...inner,
    parse(frame: string, sink: FrameSink) {
      parseKlineFrame(frame, {
        bar: (bar) => {
          sentAt.set(bar, lastEventMs);
          sink.bar(bar);
        },
        exchangeTime: (timeMs) => {
          lastEventMs = timeMs;
          sink.exchangeTime(timeMs);
        },
        error: (error) => sink.error(error),
        reconnect: (reason) => sink.reconnect(reason),
        dataLost: () => sink.dataLost(),
      });
    },
  };
  const stream = runResilientStream(adapter, {
    reconnectInitialDelayMs: 500,
    reconnectMaxDelayMs: 30_000,
    silenceTimeoutMs: 60_000,
    pingIntervalMs: 20_000,
    bufferSize: 1024,
    connectTimeoutMs: 10_000,
  });
  for await (const [bar, err] of stream) {
    if (err) throw err;
    const sentMs = sentAt.get(bar);
    if (sentMs !== undefined) samples.push(Date.now() - sentMs);
    if (performance.now() > deadlineMs) break;
  }
  return samples.sort((a, b) => a - b);
}

/**
 * Stream throughput and latency on the simulator's Binance flood (200 symbols, one combined
 * socket): closed bars/s through `BinanceProvider.stream()` against a raw `ws` + `JSON.parse`
 * floor, and p50/p99 send→consumer latency at a fixed 10k msg/s against the same floor.
 */
export const streamBench: Bench = async () => {
  const expected = SYMBOL_COUNT * BARS_PER_STREAM;
  const rows: BenchRow[] = [];
  const measure = async (run: (rest: string, ws: string) => Promise<number>) => {
    const sim = await startFloodSim({ barsPerStream: BARS_PER_STREAM });
    try {
      return await run(sim.binance.restUrl, sim.binance.wsUrl);
    } finally {
      await sim.close();
    }
  };
  await measure((_rest, ws) => rawFloor(ws, expected)); // warm-up
  const floor = await measure((_rest, ws) => rawFloor(ws, expected));
  const ours = await measure((rest, ws) => throughStream(rest, ws, expected));
  rows.push({
    name: 'stream: Binance closed bars through stream()',
    workload: `flood, ${SYMBOL_COUNT} symbols on one combined socket, ${expected} closed bars`,
    value: ours,
    baseline: 'raw ws + JSON.parse',
    baselineValue: floor,
    unit: 'bars/s',
    ratio: ours / floor,
    ratioMeaning: 'of the floor',
  });
  const latencyRun = async (raw: boolean) => {
    const sim = await startFloodSim({ barsPerStream: 1_000_000, ratePerSec: RATE_PER_SEC });
    try {
      return await latency(sim.binance.restUrl, sim.binance.wsUrl, raw);
    } finally {
      await sim.close();
    }
  };
  const rawSamples = await latencyRun(true);
  const ourSamples = await latencyRun(false);
  for (const p of [50, 99]) {
    const value = percentile(ourSamples, p);
    const base = percentile(rawSamples, p);
    rows.push({
      name: `stream: p${p} latency send -> consumer`,
      workload: `${RATE_PER_SEC} msg/s, ${SYMBOL_COUNT} symbols combined, ${LATENCY_SECONDS} s, ${ourSamples.length} samples (ms resolution)`,
      value,
      baseline: 'raw ws + JSON.parse',
      baselineValue: base,
      unit: 'ms',
      ratio: base > 0 ? value / base : value,
      ratioMeaning: 'x the floor (lower is better)',
    });
  }
  return rows;
};
