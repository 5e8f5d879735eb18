import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { JetStreamProvider } from '../../src/bus/jetstream-provider.js';
import { publishStream } from '../../src/bus/publish.js';
import { PublishLane } from '../../src/bus/publish-lane.js';
import { barStreamConfig, ensureBarStream } from '../../src/bus/stream-setup.js';
import { barMessageId, barSubject, encodeBar, STREAM_NAME } from '../../src/bus/subjects.js';
import type { MarketData, StreamResult } from '../../src/core/types.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { MemoryWriter } from '../helpers/memory-writer.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats-cluster.js';

let cluster: NatsCluster;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await startNatsCluster();
  nc = await connect({ servers: cluster.urls });
  const jsm = await jetstreamManager(nc);
  // The server's shortest dedup window (100 ms), so a test can get past it (DESIGN §9).
  await jsm.streams.add({ ...barStreamConfig(3), duplicate_window: 100_000_000 });
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.close();
});

const BASE_MS = Date.UTC(2024, 0, 1);
function barAt(symbol: string, index: number): MarketData {
  return {
    id: `${symbol}-1m-${BASE_MS + index * 60_000}`,
    symbol,
    time: new Date(BASE_MS + index * 60_000),
    open: 100 + index,
    high: 101 + index,
    low: 99 + index,
    close: 100.5 + index,
    volume: 10 + index,
  };
}

async function publishRaw(venue: string, bars: MarketData[]): Promise<void> {
  const js = jetstream(nc);
  for (const bar of bars) {
    await js.publish(barSubject(venue, '1m', bar.symbol), encodeBar(venue, '1m', bar), {
      msgID: barMessageId(venue, '1m', bar),
    });
  }
}

async function take(
  stream: AsyncIterable<StreamResult>,
  count: number,
  onBar?: (bar: MarketData, index: number) => void,
): Promise<MarketData[]> {
  const bars: MarketData[] = [];
  for await (const [bar, err] of stream) {
    if (err) {
      expect(err.fatal, err.message).toBe(false);
      continue;
    }
    bars.push(bar);
    onBar?.(bar, bars.length);
    if (bars.length === count) break;
  }
  return bars;
}

const times = (bars: MarketData[]) => bars.map((bar) => bar.time.getTime());

describe('collector → JetStream → consumer', () => {
  it('publishes every closed bar of a provider, acked, with the message id, to the consumer in order', async () => {
    const sim = await startSimulator({ seed: 3, speed: 600 });
    onTestFinished(() => sim.close());
    const ac = new AbortController();
    const consumer = new JetStreamProvider({
      servers: cluster.servers,
      venue: 'binance',
      symbols: ['BTCUSDT', 'ETHUSDT'],
      interval: '1m',
    });
    const statuses: string[] = [];
    consumer.setOnStatusChange((status) => statuses.push(status));
    const reading = take(consumer.stream(ac.signal), 16);
    // The consumer takes new bars only: start the collector once it is subscribed.
    await expect.poll(() => statuses.includes('connected'), { timeout: 10_000 }).toBe(true);
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT', 'ETHUSDT'],
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    const collecting = publishStream(provider, {
      servers: cluster.urls,
      replicas: 3,
      signal: ac.signal,
    });
    const bars = await reading;
    ac.abort();
    const summary = await collecting;
    expect(summary.stored).toBeGreaterThanOrEqual(16);
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const mine = times(bars.filter((bar) => bar.symbol === symbol));
      expect(mine.length).toBeGreaterThan(2);
      expect(mine.slice(1).map((t, i) => t - (mine[i] as number))).toEqual(
        mine.slice(1).map(() => 60_000),
      );
    }
    const jsm = await jetstreamManager(nc);
    const first = bars[0] as MarketData;
    const stored = await jsm.streams.getMessage(STREAM_NAME, {
      last_by_subj: barSubject('binance', '1m', first.symbol),
    });
    expect(stored?.header?.get('Nats-Msg-Id')).toMatch(/^binance:1m:(BTC|ETH)USDT:\d+$/);
    expect(Object.keys(stored?.json() as object)).toEqual([
      'venue',
      'interval',
      'symbol',
      'time',
      'open',
      'high',
      'low',
      'close',
      'volume',
      'id',
    ]);
    expect(statuses.at(-1)).toBe('disconnected');
  });
});

describe('redundant collectors', () => {
  it('store a bar once when a second collector offers it after the dedup window', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const subject = barSubject('late', '1m', 'BTCUSDT');
    const context = {
      js,
      jsm,
      venue: 'late',
      interval: '1m' as const,
      signal: new AbortController().signal,
      publishTimeoutMs: 2000,
      onRetry: () => {},
    };
    const early = new PublishLane(subject, 'BTCUSDT', context);
    const late = new PublishLane(subject, 'BTCUSDT', context);
    await late.refresh(); // the late collector saw an empty subject …
    const bars = [0, 1, 2, 3, 4].map((i) => barAt('BTCUSDT', i));
    const offer = (lane: PublishLane, bar: MarketData) =>
      lane.offer(bar, encodeBar('late', '1m', bar), barMessageId('late', '1m', bar));
    for (const bar of bars) expect(await offer(early, bar)).toBe('stored');
    // … and offers the same bars after the window. A probe published after them tells when the
    // server has forgotten their ids: once the probe's id is new again, theirs are too.
    const probeSubject = 'argo.bars.probe.1m.X';
    await js.publish(probeSubject, 'a', { msgID: 'probe' });
    await expect
      .poll(async () => (await js.publish(probeSubject, 'b', { msgID: 'probe' })).duplicate, {
        timeout: 5000,
        interval: 50,
      })
      .toBe(false);
    for (const bar of bars) expect(await offer(late, bar)).toBe('skipped');
    const newer = barAt('BTCUSDT', 5);
    expect(await offer(late, newer)).toBe('stored');
    const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(6);
  });

  it('two collectors racing on the same bars store each once', async () => {
    const sim = await startSimulator({ seed: 5, speed: 600 });
    onTestFinished(() => sim.close());
    const ac = new AbortController();
    const make = () =>
      new BinanceProvider({
        symbols: ['BNBUSDT'],
        interval: '1m',
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
      });
    let offered = 0;
    const onPublished = () => {
      offered++;
      if (offered >= 20) ac.abort();
    };
    const options = { servers: cluster.servers, signal: ac.signal, onPublished };
    const [a, b] = await Promise.all([
      publishStream(make(), options),
      publishStream(make(), options),
    ]);
    expect(a.stored + b.stored).toBeGreaterThan(0);
    const subject = barSubject('binance', '1m', 'BNBUSDT');
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    expect(count).toBe(a.stored + b.stored);
    const replay = new JetStreamProvider({
      servers: cluster.servers,
      venue: 'binance',
      symbols: ['BNBUSDT'],
      interval: '1m',
      from: '1970-01-01',
    });
    const all = await take(replay.stream(), count);
    const openTimes = times(all);
    expect(new Set(openTimes).size).toBe(count);
    expect(openTimes.slice(1).every((t, i) => t - (openTimes[i] as number) === 60_000)).toBe(true);
  });
});

describe('JetStreamProvider', () => {
  it('resumes a durable consumer after the last bar it yielded, and starts at `from`', async () => {
    await publishRaw(
      'resume',
      Array.from({ length: 10 }, (_, i) => barAt('AAPL', i)),
    );
    const options = {
      servers: cluster.servers,
      venue: 'resume',
      symbols: ['AAPL'],
      interval: '1m' as const,
      from: new Date(BASE_MS).toISOString(),
    };
    const first = await take(new JetStreamProvider({ ...options, durable: 'r1' }).stream(), 3);
    expect(times(first)).toEqual([0, 1, 2].map((i) => BASE_MS + i * 60_000));
    const second = await take(new JetStreamProvider({ ...options, durable: 'r1' }).stream(), 3);
    expect(times(second)).toEqual([3, 4, 5].map((i) => BASE_MS + i * 60_000));
    const fromSix = await take(
      new JetStreamProvider({
        ...options,
        from: new Date(BASE_MS + 6 * 60_000).toISOString(),
      }).stream(),
      4,
    );
    expect(times(fromSix)).toEqual([6, 7, 8, 9].map((i) => BASE_MS + i * 60_000));
  });

  it('download() replays a time range of one symbol into the writer', async () => {
    await publishRaw(
      'replay',
      Array.from({ length: 30 }, (_, i) => barAt('BRK.B', i)),
    );
    const provider = new JetStreamProvider({
      servers: cluster.servers,
      venue: 'replay',
      symbols: ['BRK.B'],
      interval: '1m',
    });
    const dir = await mkdtemp(join(tmpdir(), 'argo-replay-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const writer = new MemoryWriter(join(dir, 'replay.json'));
    provider.configWriter(writer);
    const progress: number[] = [];
    await provider.download({
      ticker: 'BRK.B',
      startDate: new Date(BASE_MS + 5 * 60_000),
      endDate: new Date(BASE_MS + 14 * 60_000),
      multiplier: 1,
      timespan: 'minute',
      onProgress: (current) => progress.push(current),
    });
    expect(times(writer.rows)).toEqual(
      Array.from({ length: 10 }, (_, i) => BASE_MS + (5 + i) * 60_000),
    );
    expect(writer.rows[0]).toEqual(barAt('BRK.B', 5));
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    const subject = barSubject('replay', '1m', 'BRK.B');
    expect(subject).toBe('argo.bars.replay.1m.BRK%2EB');
  });

  it('refuses an existing stream with other replicas instead of using it silently', async () => {
    const jsm = await jetstreamManager(nc);
    await expect(ensureBarStream(jsm, 1, new AbortController().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'replicas',
    });
  });
});
