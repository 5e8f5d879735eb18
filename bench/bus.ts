// `npm run bench -- bus`: the JetStream bus (DESIGN §9) on a real three-node nats-server cluster.
// Throughput: bars/s through publishStream into an R3 ARGO_BARS stream (every ack awaited) against
// core NATS publish + flush of the same payloads to the same cluster. Latency: collector →
// JetStreamProvider.stream() one bar at a time against a core NATS request/reply round trip.
import { connect } from '@nats-io/transport-node';
import { JetStreamProvider } from '../src/bus/jetstream-provider.js';
import { publishStream } from '../src/bus/publish.js';
import { encodeBar } from '../src/bus/subjects.js';
import type { MarketData, Provider, StreamResult } from '../src/core/types.js';
import { startNatsCluster } from '../test/helpers/nats-cluster.js';
import type { Bench, BenchRow } from './report.js';

const SYMBOLS = 20;
const BARS_PER_SYMBOL = 250; // 5,000 bars through R3
const LATENCY_BARS = 300;
const LATENCY_WARMUP = 20;
const START_MS = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;

/** Wall clock with sub-millisecond resolution. */
const nowMs = (): number => performance.timeOrigin + performance.now();

function makeBars(symbols: string[], perSymbol: number): MarketData[] {
  const bars: MarketData[] = [];
  for (let i = 0; i < perSymbol; i++) {
    for (const symbol of symbols) {
      const price = 100 + (i % 17);
      bars.push({
        id: `${symbol}-${i}`,
        symbol,
        time: new Date(START_MS + i * MINUTE),
        open: price,
        high: price + 1,
        low: price - 1,
        close: price + 0.5,
        volume: 10 + i,
      });
    }
  }
  return bars;
}

/**
 * Load generator behind the Provider interface: yields precomputed closed bars as fast as the
 * collector takes them, or each after `gate()` resolves (latency runs), then waits for abort.
 */
class LoadProvider implements Provider {
  readonly venue: string;
  onYield: ((bar: MarketData) => void) | undefined;
  constructor(
    venue: string,
    private readonly bars: MarketData[],
    private readonly symbols: string[],
    private readonly gate?: () => Promise<void>,
  ) {
    this.venue = venue;
  }
  configWriter(): void {}
  async download(): Promise<string> {
    return '';
  }
  getSymbols(): string[] {
    return this.symbols;
  }
  getInterval(): '1m' {
    return '1m';
  }
  setOnStatusChange(): void {}
  async *stream(signal?: AbortSignal): AsyncIterable<StreamResult> {
    for (const bar of this.bars) {
      if (signal?.aborted) return;
      if (this.gate) await this.gate();
      this.onYield?.(bar);
      yield [bar, undefined] as StreamResult;
    }
    if (signal && !signal.aborted) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bus bench: ${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function publishRate(servers: string): Promise<number> {
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `BUS${String(i).padStart(3, '0')}USDT`);
  const bars = makeBars(symbols, BARS_PER_SYMBOL);
  const provider = new LoadProvider('benchtp', bars, symbols);
  const ac = new AbortController();
  let startedMs = 0;
  let doneMs = 0;
  let published = 0;
  let resolveDone: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  provider.onYield = () => {
    if (startedMs === 0) startedMs = performance.now();
  };
  const run = publishStream(provider, {
    servers,
    replicas: 3,
    signal: ac.signal,
    publishTimeoutMs: 10_000,
    onPublished: () => {
      published++;
      if (published === bars.length) {
        doneMs = performance.now();
        resolveDone();
      }
    },
  });
  try {
    await withTimeout(Promise.race([allDone, run.then(() => {})]), 120_000, 'R3 publish');
  } finally {
    ac.abort();
    await run.catch(() => {});
  }
  if (published !== bars.length) throw new Error(`bus bench: ${published}/${bars.length} acked`);
  return bars.length / ((doneMs - startedMs) / 1000);
}

async function corePublishRate(servers: string): Promise<number> {
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `BUS${String(i).padStart(3, '0')}USDT`);
  const bars = makeBars(symbols, BARS_PER_SYMBOL);
  const payloads = bars.map((bar) => encodeBar('benchtp', '1m', bar));
  const nc = await connect({ servers: servers.split(',') });
  try {
    const startedMs = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      nc.publish(`benchcore.${bars[i]?.symbol}`, payloads[i] as string);
    }
    await nc.flush();
    return payloads.length / ((performance.now() - startedMs) / 1000);
  } finally {
    await nc.close();
  }
}

/** Collector → consumer latency, one bar in flight at a time; ms per bar, sorted. */
async function busLatency(servers: string): Promise<number[]> {
  const symbol = 'LATUSDT';
  const bars = makeBars([symbol], LATENCY_BARS);
  let release: () => void = () => {};
  let gateOpen = true;
  const waiters: (() => void)[] = [];
  // The generator yields the next bar only once the consumer took the previous one.
  const gate = async () => {
    if (gateOpen) {
      gateOpen = false;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  };
  release = () => {
    const next = waiters.shift();
    if (next) next();
    else gateOpen = true;
  };
  const sentAt = new Map<number, number>();
  const provider = new LoadProvider('benchlat', bars, [symbol], gate);
  provider.onYield = (bar) => sentAt.set(bar.time.getTime(), nowMs());
  const ac = new AbortController();
  const consumer = new JetStreamProvider({
    servers,
    venue: 'benchlat',
    symbols: [symbol],
    interval: '1m',
    from: new Date(START_MS).toISOString(),
  });
  const latencies: number[] = [];
  const consume = (async () => {
    for await (const [bar, err] of consumer.stream(ac.signal)) {
      if (err) {
        if (err.fatal) throw err;
        continue;
      }
      const sent = sentAt.get(bar.time.getTime());
      if (sent !== undefined) latencies.push(nowMs() - sent);
      if (latencies.length >= LATENCY_BARS) return;
      release();
    }
  })();
  const collector = publishStream(provider, {
    servers,
    replicas: 3,
    signal: ac.signal,
    publishTimeoutMs: 10_000,
  });
  try {
    await withTimeout(consume, 120_000, 'latency run');
  } finally {
    ac.abort();
    await Promise.all([collector.catch(() => {}), consume.catch(() => {})]);
  }
  return latencies.slice(LATENCY_WARMUP).sort((a, b) => a - b);
}

/** Core NATS request/reply round trips on the same cluster; ms each, sorted. */
async function coreRoundTrips(servers: string): Promise<number[]> {
  const urls = servers.split(',');
  const responder = await connect({ servers: urls.slice(1) });
  const requester = await connect({ servers: urls.slice(0, 1) });
  try {
    const sub = responder.subscribe('benchecho');
    void (async () => {
      for await (const msg of sub) msg.respond(msg.data);
    })();
    await responder.flush();
    const payload = encodeBar('benchlat', '1m', makeBars(['LATUSDT'], 1)[0] as MarketData);
    const rtts: number[] = [];
    for (let i = 0; i < LATENCY_BARS; i++) {
      const sent = nowMs();
      await requester.request('benchecho', payload, { timeout: 5000 });
      rtts.push(nowMs() - sent);
    }
    return rtts.slice(LATENCY_WARMUP).sort((a, b) => a - b);
  } finally {
    await requester.close();
    await responder.close();
  }
}

export const busBench: Bench = async () => {
  const cluster = await startNatsCluster();
  try {
    const r3 = await publishRate(cluster.servers);
    const core = await corePublishRate(cluster.servers);
    const bus = await busLatency(cluster.servers);
    const rtt = await coreRoundTrips(cluster.servers);
    const bars = SYMBOLS * BARS_PER_SYMBOL;
    const rows: BenchRow[] = [
      {
        name: 'bus: publishStream → R3 ARGO_BARS',
        workload: `${bars.toLocaleString('en-US')} bars, ${SYMBOLS} symbols, acks awaited, 3-node cluster`,
        value: r3,
        baseline: 'core NATS publish + flush',
        baselineValue: core,
        unit: 'bars/s',
        ratio: r3 / core,
        ratioMeaning: 'of core publish',
      },
    ];
    for (const p of [50, 99]) {
      const ours = percentile(bus, p);
      const base = percentile(rtt, p);
      rows.push({
        name: `bus: collector → JetStreamProvider p${p}`,
        workload: `${bus.length} bars one in flight, R3, after ${LATENCY_WARMUP} warm-up`,
        value: ours,
        baseline: 'core NATS request/reply RTT',
        baselineValue: base,
        unit: 'ms',
        ratio: ours / base,
        ratioMeaning: 'of core RTT (lower is better)',
      });
    }
    return rows;
  } finally {
    await cluster.close();
  }
};
