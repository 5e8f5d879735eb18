import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { expect, it, onTestFinished } from 'vitest';
import { type PublishBacklog, publishStream } from '../../src/bus/publish.js';
import { ensureBarStream } from '../../src/bus/stream-setup.js';
import { decodeBar, STREAM_NAME } from '../../src/bus/subjects.js';
import { MarketDataError } from '../../src/core/errors.js';
import type { MarketData } from '../../src/core/types.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { MemoryWriter } from '../helpers/memory-writer.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const MAX_HELD = 4;

// Issue 17, must have 1: while NATS is unreachable the collector holds at most `maxHeldBars`,
// drops the rest, and once NATS is back refetches the dropped stretch from the venue, so the
// stream still gets every bar, once, in order.
it('whole cluster down: bars held within the bound, the rest backfilled from the venue, every bar once', async () => {
  const sim = await startSimulator({ seed: 23, speed: 600 });
  onTestFinished(() => sim.close());
  const cluster = await startNatsCluster();
  onTestFinished(() => cluster.close());
  const admin = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
  onTestFinished(() => admin.close());
  const jsm = await jetstreamManager(admin);
  await ensureBarStream(jsm, 3, new AbortController().signal);

  const provider = new BinanceProvider({
    symbols: SYMBOLS,
    interval: '1m',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
  });
  const ac = new AbortController();
  onTestFinished(() => ac.abort());
  let backlog: PublishBacklog = { held: 0, maxHeld: MAX_HELD, dropped: 0 };
  let mostHeld = 0;
  let stored = 0;
  const collecting = publishStream(provider, {
    servers: cluster.servers,
    replicas: 3,
    maxHeldBars: MAX_HELD,
    publishTimeoutMs: 500,
    signal: ac.signal,
    onBacklog: (now) => {
      backlog = now;
      mostHeld = Math.max(mostHeld, now.held);
    },
    onPublished: (_bar, outcome) => {
      if (outcome === 'stored') stored++;
    },
  });

  await expect.poll(() => stored, { timeout: 20_000 }).toBeGreaterThanOrEqual(6);
  await Promise.all([0, 1, 2].map((index) => cluster.stopNode(index)));
  // Down long enough (in simulator minutes) that the bound is exceeded: bars get dropped.
  await expect.poll(() => backlog.dropped, { timeout: 20_000 }).toBeGreaterThanOrEqual(6);
  expect(backlog.held).toBe(MAX_HELD);
  const storedBeforeRestart = stored;
  await Promise.all([0, 1, 2].map((index) => cluster.startNode(index)));
  // Back: the held bars, the refetched stretch and new bars all arrive; wait for live bars past
  // the gap with nothing held any more.
  await expect
    .poll(
      () => stored - storedBeforeRestart > MAX_HELD + backlog.dropped + 4 && backlog.held === 0,
      {
        timeout: 40_000,
      },
    )
    .toBe(true);
  ac.abort();
  await collecting;

  expect(mostHeld).toBeLessThanOrEqual(MAX_HELD);
  const last = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
  const onBus = new Map<string, number[]>(SYMBOLS.map((symbol) => [symbol, []]));
  const closes = new Map<string, number[]>(SYMBOLS.map((symbol) => [symbol, []]));
  for (let seq = 1; seq <= last; seq++) {
    const msg = await jsm.streams.getMessage(STREAM_NAME, { seq });
    const bar = decodeBar(msg?.string() ?? '');
    if (bar instanceof MarketDataError) throw bar;
    onBus.get(bar.symbol)?.push(bar.time.getTime());
    closes.get(bar.symbol)?.push(bar.close);
  }
  const out = await mkdtemp(join(tmpdir(), 'argo-outage-'));
  onTestFinished(() => rm(out, { recursive: true, force: true }));
  for (const symbol of SYMBOLS) {
    const times = onBus.get(symbol) as number[];
    // Once each, in order, no gap: stream order is time order, one minute apart.
    expect(times.length).toBeGreaterThan(MAX_HELD + 6);
    expect(times.slice(1).map((t, i) => t - (times[i] as number))).toEqual(
      times.slice(1).map(() => 60_000),
    );
    // And they are the venue's bars: its REST klines for the whole range.
    const writer = new MemoryWriter(join(out, `${symbol}.json`));
    const rest = new BinanceProvider({
      symbols: [symbol],
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    rest.configWriter(writer);
    await rest.download({
      ticker: symbol,
      startDate: new Date(times[0] as number),
      endDate: new Date(times.at(-1) as number),
      multiplier: 1,
      timespan: 'minute',
    });
    expect(writer.rows.map((bar: MarketData) => [bar.time.getTime(), bar.close])).toEqual(
      times.map((t, i) => [t, closes.get(symbol)?.[i]]),
    );
  }
  console.log(
    `outage: ${JSON.stringify(Object.fromEntries([...onBus].map(([s, t]) => [s, t.length])))} bars on the bus, at most ${mostHeld} held (bound ${MAX_HELD}), ${backlog.dropped} dropped and refetched`,
  );
}, 60_000);
