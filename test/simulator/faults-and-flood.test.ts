import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { TestClient } from './ws-client.js';

const START_MS = Date.UTC(2024, 4, 6, 12, 30, 0);
const open: Array<Simulator | TestClient> = [];

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ seed: 11, start: START_MS, ...options });
  open.push(s);
  return s;
}

async function client(url: string, options?: ConstructorParameters<typeof TestClient>[1]) {
  const c = new TestClient(url, options);
  open.push(c);
  return c.open();
}

afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

interface Kline {
  E: number;
  ts: number;
  k: { t: number; x: boolean; o: string; c: string; v: string };
}

describe('Binance flood mode', () => {
  it('sends contiguous closed bars with real send time in E, equal to the market', async () => {
    const s = await sim({ binanceFlood: { barsPerStream: 50 } });
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    const events: Kline[] = [];
    while (events.length < 50) events.push(await c.json<Kline>());
    expect(events.every((e) => e.k.x)).toBe(true);
    const times = events.map((e) => e.k.t);
    expect(times.slice(1).every((t, i) => t - (times[i] as number) === 60_000)).toBe(true);
    expect(times[49]).toBe(Math.floor(s.clock.now() / 60_000) * 60_000 - 60_000);
    expect(Math.abs((events[0] as Kline).E - Date.now())).toBeLessThan(2000);
    // The sub-ms send stamp patched into each precomputed frame: now-ish, with decimals.
    const nowMs = performance.timeOrigin + performance.now();
    expect(events.every((e) => e.ts <= nowMs && e.ts > nowMs - 2000)).toBe(true);
    const truth = s.market.binanceBars('BTCUSDT', '1m', times[0] as number, times[49] as number);
    expect(events.map((e) => [+e.k.o, +e.k.c, +e.k.v])).toEqual(
      truth.map((b) => [b.open, b.close, b.volume]),
    );
  });
});

it('floods a combined socket with stamped frames, each stream contiguous', async () => {
  const s = await sim({ binanceFlood: { barsPerStream: 300 }, speed: 1 });
  const c = await client(`${s.binance.wsUrl}/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m`);
  const byStream = new Map<string, number[]>();
  for (let i = 0; i < 600; i++) {
    const f = await c.json<{ stream: string; data: Kline; ts: number }>();
    expect(f.data.k.x).toBe(true);
    expect(Number.isFinite(f.ts)).toBe(true);
    byStream.set(f.stream, [...(byStream.get(f.stream) ?? []), f.data.k.t]);
  }
  for (const times of byStream.values()) {
    expect(times).toHaveLength(300);
    expect(times.slice(1).every((t, i) => t - (times[i] as number) === 60_000)).toBe(true);
  }
});

describe('connection limits', () => {
  it('cuts a connection after the 24 h lifetime, scaled by the clock', async () => {
    const s = await sim({ speed: 200_000 });
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1h`);
    expect((await c.closed).code).toBe(1000);
  });

  it('terminates a client that does not answer pings', async () => {
    const s = await sim({ speed: 600 });
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`, { autoPong: false });
    expect((await c.closed).code).toBe(1006);
    expect(s.stats.wsConnectionsOpened('binance')).toBe(1);
  }, 8000);
});

describe('HTTP faults', () => {
  it('adds REST latency and refuses plain HTTP on request', async () => {
    const s = await sim();
    s.faults.setRestLatency(300, 'polygon');
    const startedMs = performance.now();
    await fetch(`${s.polygon.restUrl}/v2/aggs/ticker/AAPL/range/1/day/2024-05-01/2024-05-02`);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(290);
    s.faults.refuseConnections(60_000, 'binance', { http: true });
    await expect(fetch(`${s.binance.restUrl}/api/v3/ping`)).rejects.toThrow();
    s.faults.reset();
    expect((await fetch(`${s.binance.restUrl}/api/v3/ping`)).status).toBe(200);
    await s.stats.untilConnectionsOpened(0);
    await expect(s.stats.untilOpenConnections(3, 'binance', 50)).rejects.toMatchObject({
      code: 'NETWORK',
    });
  });

  it('goSilent on Polygon keeps the socket open and stops aggregates', async () => {
    const s = await sim({ speed: 600, polygonApiKey: 'k' });
    const c = await client(`${s.polygon.wsUrl}/stocks`);
    c.send({ action: 'auth', params: 'k' });
    c.send({ action: 'subscribe', params: 'AM.*' });
    await c.json((m: Array<{ ev: string }>) => m[0]?.ev === 'AM');
    s.faults.goSilent('polygon');
    c.frames.length = 0;
    await expect(c.next(() => true, 1000)).rejects.toThrow(/no matching frame/);
    expect(s.stats.openConnections('polygon')).toBe(1);
  });
});
