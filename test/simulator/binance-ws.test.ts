import type { ClientRequest, IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { TestClient } from './ws-client.js';

interface KlineEvent {
  e: string;
  E: number;
  s: string;
  k: {
    t: number;
    T: number;
    s: string;
    i: string;
    f: number;
    L: number;
    o: string;
    c: string;
    h: string;
    l: string;
    v: string;
    n: number;
    x: boolean;
    q: string;
    V: string;
    Q: string;
    B: string;
  };
}

const START_MS = Date.UTC(2024, 4, 6, 12, 30, 0);
const open: Array<Simulator | TestClient> = [];

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ seed: 5, start: START_MS, ...options });
  open.push(s);
  return s;
}

async function client(url: string): Promise<TestClient> {
  const c = new TestClient(url);
  open.push(c);
  return c.open();
}

afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const isFinal = (e: KlineEvent): boolean => e.e === 'kline' && e.k.x;

describe('Binance WebSocket', () => {
  it('sends kline events with every field and type, one final per bar matching REST', async () => {
    const s = await sim({ speed: 600 });
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    const finals: KlineEvent[] = [];
    let updates = 0;
    while (finals.length < 4) {
      const event = await c.json<KlineEvent>((e) => e.e === 'kline');
      if (event.k.x) finals.push(event);
      else updates++;
    }
    expect(updates).toBeGreaterThan(0);
    const event = finals[0] as KlineEvent;
    expect(Object.keys(event)).toEqual(['e', 'E', 's', 'k']);
    expect(Object.keys(event.k)).toEqual([
      't',
      'T',
      's',
      'i',
      'f',
      'L',
      'o',
      'c',
      'h',
      'l',
      'v',
      'n',
      'x',
      'q',
      'V',
      'Q',
      'B',
    ]);
    expect(event).toMatchObject({ s: 'BTCUSDT', k: { s: 'BTCUSDT', i: '1m' } });
    expect(event.k.T).toBe(event.k.t + 59_999);
    expect(event.E).toBeGreaterThan(event.k.T);
    for (const key of ['o', 'c', 'h', 'l', 'v', 'q', 'V', 'Q'] as const) {
      expect(event.k[key]).toMatch(/^\d+\.\d{8}$/);
    }
    const openTimes = finals.map((e) => e.k.t);
    expect(openTimes.slice(1).map((t, i) => t - (openTimes[i] as number))).toEqual([
      60_000, 60_000, 60_000,
    ]);
    const truth = s.market.binanceBars(
      'BTCUSDT',
      '1m',
      openTimes[0] as number,
      openTimes[3] as number,
    );
    expect(finals.map((e) => [e.k.t, +e.k.o, +e.k.h, +e.k.l, +e.k.c, +e.k.v])).toEqual(
      truth.map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]),
    );
  });

  it('wraps combined streams and sends 1s finals only', async () => {
    const s = await sim({ speed: 20 });
    const c = await client(`${s.binance.wsUrl}/stream?streams=ethusdt@kline_1s/bnbbtc@kline_1s`);
    const seen = new Set<string>();
    while (seen.size < 2) {
      const frame = await c.json<{ stream: string; data: KlineEvent }>();
      expect(frame.data.k.x).toBe(true);
      expect(frame.stream).toBe(`${frame.data.s.toLowerCase()}@kline_1s`);
      seen.add(frame.stream);
    }
  });

  it('handles live SUBSCRIBE, LIST_SUBSCRIPTIONS, properties and errors', async () => {
    const s = await sim({ speed: 600 });
    const c = await client(`${s.binance.wsUrl}/ws`);
    c.send({ method: 'SUBSCRIBE', params: ['ethusdt@kline_1m', 'xrpxrp@kline_1m'], id: 1 });
    expect(await c.json((m: { id?: unknown }) => m.id === 1)).toEqual({ result: null, id: 1 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 'abc' });
    expect(await c.json((m: { id?: unknown }) => m.id === 'abc')).toEqual({
      result: ['ethusdt@kline_1m', 'xrpxrp@kline_1m'],
      id: 'abc',
    });
    c.send({ method: 'SUBSCRIBE', params: ['BTCUSDT@kline_1m'], id: 3 });
    expect(await c.json((m: { id?: unknown }) => m.id === 3)).toEqual({
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 3,
    });
    // The 5 msg/s limit counts per connection: the rest runs on a second one, subscribed to the
    // same two streams by URL, instead of waiting a real second for the budget to refill.
    const d = await client(`${s.binance.wsUrl}/ws/ethusdt@kline_1m/xrpxrp@kline_1m`);
    d.send({ method: 'GET_PROPERTY', params: ['combined'], id: 4 });
    expect(await d.json((m: { id?: unknown }) => m.id === 4)).toEqual({ result: false, id: 4 });
    d.send({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 5 });
    expect(await d.json((m: { id?: unknown }) => m.id === 5)).toMatchObject({ error: { code: 1 } });
    d.send({ method: 'SET_PROPERTY', params: ['combined', true], id: 6 });
    expect(await d.json((m: { id?: unknown }) => m.id === 6)).toEqual({ result: null, id: 6 });
    d.send('{not json');
    expect(await d.json((m: { error?: { code: number } }) => m.error?.code === 3)).toMatchObject({
      id: null,
    });
    const frame = await d.json<{ stream: string; data: KlineEvent }>((m) => 'stream' in m);
    expect(frame.stream).toBe('ethusdt@kline_1m'); // the unknown symbol stays silent
  });

  it('disconnects a client sending more than 5 messages per second', async () => {
    const s = await sim();
    const c = await client(`${s.binance.wsUrl}/ws`);
    for (let i = 0; i < 7; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    expect((await c.closed).code).toBe(1008);
  });
});

describe('Binance WebSocket faults', () => {
  it('dropConnections terminates every socket and the client can reconnect', async () => {
    const s = await sim({ speed: 60 });
    const a = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    await client(`${s.binance.wsUrl}/ws/ethusdt@kline_1m`);
    await s.stats.untilOpenConnections(2, 'binance');
    s.faults.dropConnections('binance');
    expect((await a.closed).code).toBe(1006);
    await s.stats.untilOpenConnections(0, 'binance');
    const b = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    await b.json<KlineEvent>((e) => e.e === 'kline');
    expect(s.stats.wsConnectionsOpened('binance')).toBe(3);
  });

  it('refuseConnections rejects upgrades for a while', async () => {
    const s = await sim();
    s.faults.refuseConnections(60_000, 'binance');
    const refused = new TestClient(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    open.push(refused);
    const error = await new Promise<Error>((resolve) => refused.ws.once('error', resolve));
    expect(error.message).toContain('503');
    s.faults.reset();
    await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
  });

  it('refuses a new connection past the per-IP limit with 429, counting refused attempts', async () => {
    const s = await sim({ binanceConnectionLimit: { connections: 2, windowMs: 60_000 } });
    await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    await client(`${s.binance.wsUrl}/stream?streams=ethusdt@kline_1m`);
    const third = new TestClient(`${s.binance.wsUrl}/ws/bnbbtc@kline_1m`);
    open.push(third);
    const [request, response] = await new Promise<[ClientRequest, IncomingMessage]>((resolve) =>
      third.ws.once('unexpected-response', (req, res) => resolve([req, res])),
    );
    let body = '';
    for await (const chunk of response) body += String(chunk);
    request.destroy();
    expect(response.statusCode).toBe(429);
    expect(JSON.parse(body)).toMatchObject({ code: -1003 });
    expect(s.stats.wsConnectionsOpened('binance')).toBe(2);
    expect(s.stats.wsConnectionsRefused('binance')).toBe(1);
    // Polygon has its own limits; Binance's does not apply to it.
    expect(s.stats.wsConnectionsRefused('polygon')).toBe(0);
  });

  it('goSilent stops data and pings without closing; sendMalformed corrupts frames', async () => {
    const s = await sim({ speed: 600 });
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    await c.json<KlineEvent>(isFinal);
    s.faults.sendMalformed(3, 'binance');
    // Frames already in flight arrive first; the malformed run starts with the non-JSON one.
    let first = await c.next();
    while (!first.startsWith('not json')) first = await c.next();
    const bad = [first, await c.next(), await c.next()];
    expect(() => JSON.parse(bad[1] as string)).toThrow();
    expect(typeof (JSON.parse(bad[2] as string) as KlineEvent).E).toBe('string');
    await c.json<KlineEvent>((e) => e.e === 'kline');
    s.faults.goSilent('binance');
    c.frames.length = 0;
    let pings = 0;
    c.ws.on('ping', () => pings++);
    await expect(c.next(() => true, 1500)).rejects.toThrow(/no matching frame/);
    expect(pings).toBe(0);
    expect(s.stats.openConnections('binance')).toBe(1);
  });

  it('serverShutdown sends the event and closes', async () => {
    const s = await sim();
    const c = await client(`${s.binance.wsUrl}/ws/btcusdt@kline_1m`);
    s.faults.serverShutdown();
    expect(await c.json((m: { e?: string }) => m.e === 'serverShutdown')).toMatchObject({
      e: 'serverShutdown',
    });
    expect((await c.closed).code).toBe(1001);
  });

  it('failHttp answers the next requests with the chosen status and a real body', async () => {
    const s = await sim();
    s.faults.failHttp(1, 429, { retryAfterSec: 7, venue: 'binance' });
    s.faults.failHttp(1, 503, { venue: 'binance' });
    const first = await fetch(`${s.binance.restUrl}/api/v3/time`);
    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '7']);
    expect(await first.json()).toMatchObject({ code: -1003 });
    const second = await fetch(`${s.binance.restUrl}/api/v3/time`);
    expect(second.status).toBe(503);
    expect(await second.json()).toMatchObject({ code: -1008 });
    expect((await fetch(`${s.binance.restUrl}/api/v3/time`)).status).toBe(200);
    expect(s.stats.httpRequests('binance')).toBe(3);
  });
});
