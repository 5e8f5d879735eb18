import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { TestClient } from './ws-client.js';

const START_MS = Date.UTC(2024, 4, 6, 12, 30, 15, 500);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, start: START_MS, speed: 60 });
});
afterAll(() => sim.close());

interface Envelope<T> {
  code: string;
  msg: string;
  data: T[];
}
type Candles = Envelope<string[]>;

async function get<T>(path: string, base = sim.okx.restUrl): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

const numbers = (row: string[]): number[] => row.slice(0, 6).map(Number);
const truthRows = (symbol: string, interval: '1m' | '1d', fromMs: number, toMs: number) =>
  sim.market
    .binanceBars(symbol, interval, fromMs, toMs)
    .map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]);

describe('OKX REST (PROTOCOLS.md §6.2)', () => {
  it('answers time and instruments: live, suspended, delisted gone, unknown 51001', async () => {
    const time = await get<Envelope<{ ts: string }>>('/api/v5/public/time');
    expect(time.body.code).toBe('0');
    expect(Math.abs(Number(time.body.data[0]?.ts) - sim.clock.now())).toBeLessThan(5000);
    const all = await get<Envelope<{ instId: string; state: string }>>(
      '/api/v5/public/instruments?instType=SPOT',
    );
    const states = new Map(all.body.data.map((i) => [i.instId, i.state]));
    expect(states.get('BTC-USDT')).toBe('live');
    expect(states.get('ETH-BTC')).toBe('live');
    expect(states.get('HALT-USDT')).toBe('suspend');
    expect(states.has('XMR-USDT')).toBe(false);
    const unknown = await get<Envelope<unknown>>(
      '/api/v5/public/instruments?instType=SPOT&instId=NOPE-USDT',
    );
    expect(unknown.body).toMatchObject({ code: '51001', data: [] });
    const noType = await get<Envelope<unknown>>('/api/v5/public/instruments');
    expect(noType.body.code).toBe('50014');
  });

  it('serves newest first, the forming bar first with confirm "0", equal to the ground truth', async () => {
    const nowMs = sim.clock.now();
    const { body } = await get<Candles>('/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=5');
    expect(body.code).toBe('0');
    const ts = body.data.map((row) => Number(row[0]));
    expect(ts).toHaveLength(5);
    expect(ts).toEqual([...ts].sort((a, b) => b - a));
    expect(body.data[0]?.[8]).toBe('0');
    expect((ts[0] as number) + MINUTE).toBeGreaterThan(nowMs);
    expect(body.data.slice(1).map((r) => r[8])).toEqual(['1', '1', '1', '1']);
    for (const row of body.data) {
      expect(row).toHaveLength(9);
      for (const cell of row) expect(typeof cell).toBe('string');
    }
    // Same seed, same bars as the Binance and Bybit venues.
    const closed = body.data.slice(1).reverse().map(numbers);
    expect(closed).toEqual(truthRows('BTCUSDT', '1m', ts[4] as number, ts[1] as number));
  });

  it('after and before are exclusive; limit picks the newest of the range', async () => {
    const from = Date.UTC(2024, 4, 6, 10, 0);
    const to = from + 9 * MINUTE;
    const q = `instId=ETH-USDT&bar=1m&after=${to}&before=${from}`;
    const { body } = await get<Candles>(`/api/v5/market/candles?${q}`);
    expect(body.data.map((r) => Number(r[0]))).toEqual(
      Array.from({ length: 8 }, (_, i) => to - (i + 1) * MINUTE),
    );
    const limited = await get<Candles>(`/api/v5/market/candles?${q}&limit=3`);
    expect(limited.body.data.map((r) => Number(r[0]))).toEqual([
      to - MINUTE,
      to - 2 * MINUTE,
      to - 3 * MINUTE,
    ]);
  });

  it('candles keeps only the latest 1,440 bars; history-candles serves older ones in pages of 100', async () => {
    const old = Date.UTC(2024, 3, 1, 0, 0);
    const recent = await get<Candles>(
      `/api/v5/market/candles?instId=BTC-USDT&bar=1m&after=${old}&limit=300`,
    );
    expect(recent.body).toMatchObject({ code: '0', data: [] });
    const history = await get<Candles>(
      `/api/v5/market/history-candles?instId=BTC-USDT&bar=1m&after=${old}&limit=300`,
    );
    expect(history.body.data).toHaveLength(100);
    expect(Number(history.body.data[0]?.[0])).toBe(old - MINUTE);
    expect(Number(history.body.data[99]?.[0])).toBe(old - 100 * MINUTE);
    const full = await get<Candles>('/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=300');
    expect(full.body.data).toHaveLength(300);
  });

  it('a 5m bar is the aggregate of its 1m bars', async () => {
    const from = Date.UTC(2024, 4, 6, 9, 0);
    const five = await get<Candles>(
      `/api/v5/market/candles?instId=BTC-USDT&bar=5m&after=${from + 1}&limit=1`,
    );
    const ones = await get<Candles>(
      `/api/v5/market/candles?instId=BTC-USDT&bar=1m&after=${from + 5 * MINUTE}&before=${from - 1}`,
    );
    const bar = five.body.data[0] as string[];
    const rows = ones.body.data.slice().reverse();
    expect(rows).toHaveLength(5);
    expect(Number(bar[0])).toBe(from);
    expect(Number(bar[1])).toBe(Number(rows[0]?.[1]));
    expect(Number(bar[4])).toBe(Number(rows[4]?.[4]));
    expect(Number(bar[2])).toBe(Math.max(...rows.map((r) => Number(r[2]))));
    expect(Number(bar[3])).toBe(Math.min(...rows.map((r) => Number(r[3]))));
    expect(Number(bar[5])).toBeCloseTo(
      rows.reduce((s, r) => s + Number(r[5]), 0),
      8,
    );
  });

  it('plain 6H and up are aligned to UTC+8, the utc names to UTC', async () => {
    const day = await get<Candles>('/api/v5/market/history-candles?instId=BTC-USDT&bar=1D&limit=3');
    const dayUtc = await get<Candles>(
      '/api/v5/market/history-candles?instId=BTC-USDT&bar=1Dutc&limit=3',
    );
    for (const row of day.body.data) expect(new Date(Number(row[0])).getUTCHours()).toBe(16);
    for (const row of dayUtc.body.data) expect(Number(row[0]) % (24 * HOUR)).toBe(0);
    const closed = dayUtc.body.data.slice(1).reverse().map(numbers);
    const first = Number(dayUtc.body.data[2]?.[0]);
    expect(closed).toEqual(truthRows('BTCUSDT', '1d', first, first + 24 * HOUR));
    const six = await get<Candles>('/api/v5/market/history-candles?instId=BTC-USDT&bar=6H&limit=8');
    const hours = new Set(six.body.data.map((r) => new Date(Number(r[0])).getUTCHours()));
    expect([...hours].sort((a, b) => a - b)).toEqual([4, 10, 16, 22]);
    const bad = await get<Candles>('/api/v5/market/candles?instId=BTC-USDT&bar=8H');
    expect(bad.body.code).toBe('51000');
    const lower = await get<Candles>('/api/v5/market/candles?instId=BTC-USDT&bar=1h');
    expect(lower.body.code).toBe('51000');
  });

  it('counts each endpoint on its own limit and answers the excess with 429 code 50011', async () => {
    const limited = await startSimulator({
      seed: 3,
      start: START_MS,
      okxRequestLimits: {
        candles: { requests: 2, windowMs: 60_000 },
        historyCandles: { requests: 1, windowMs: 60_000 },
      },
    });
    try {
      const base = limited.okx.restUrl;
      const path = '/api/v5/market/candles?instId=BTC-USDT&limit=1';
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await get(path, base)).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect((await get<Envelope<unknown>>(path, base)).body).toMatchObject({
        code: '50011',
        msg: 'Too Many Requests',
      });
      const history = '/api/v5/market/history-candles?instId=BTC-USDT&limit=1';
      expect((await get(history, base)).status).toBe(200);
      expect((await get(history, base)).status).toBe(429);
      expect(limited.stats.rateLimitRefusals(429, 'okx')).toBe(3);
    } finally {
      await limited.close();
    }
  });

  it('forced faults take the OKX shapes (429 code 50011, 5xx code 50001)', async () => {
    sim.faults.failHttp(1, 429, { venue: 'okx' });
    const tooMany = await get<Envelope<unknown>>('/api/v5/public/time');
    expect(tooMany).toMatchObject({ status: 429, body: { code: '50011' } });
    sim.faults.failHttp(1, 503, { venue: 'okx' });
    expect(await get<Envelope<unknown>>('/api/v5/public/time')).toMatchObject({
      status: 503,
      body: { code: '50001' },
    });
    expect((await get('/api/v5/public/time')).status).toBe(200);
  });
});

interface Push {
  arg: { channel: string; instId: string };
  data: string[][];
}
interface Event {
  id?: string;
  event: string;
  code?: string;
  arg?: { channel: string; instId: string };
}

describe('OKX WebSocket (PROTOCOLS.md §6.3)', () => {
  const url = (): string => `${sim.okx.wsUrl}/ws/v5/business`;

  it('acks, answers text ping with pong, pushes confirm "1" bars equal to REST', async () => {
    const client = await new TestClient(url()).open();
    try {
      client.send({
        id: '1',
        op: 'subscribe',
        args: [{ channel: 'candle1m', instId: 'BTC-USDT' }],
      });
      expect(await client.json<Event>((m) => m.event === 'subscribe')).toMatchObject({
        id: '1',
        arg: { channel: 'candle1m', instId: 'BTC-USDT' },
      });
      client.send('ping');
      expect(await client.next((f) => f === 'pong')).toBe('pong');
      const forming = await client.json<Push>((m) => m.data?.[0]?.[8] === '0');
      expect(forming.arg).toEqual({ channel: 'candle1m', instId: 'BTC-USDT' });
      const final = await client.json<Push>((m) => m.data?.[0]?.[8] === '1', 8000);
      const row = final.data[0] as string[];
      expect(row).toHaveLength(9);
      const openMs = Number(row[0]);
      const rest = await get<Candles>(
        `/api/v5/market/candles?instId=BTC-USDT&bar=1m&after=${openMs + 1}&limit=1`,
      );
      expect(rest.body.data[0]).toEqual(row);
      expect(numbers(row)).toEqual(truthRows('BTCUSDT', '1m', openMs, openMs)[0]);
    } finally {
      client.ws.close();
      await client.closed;
    }
  });

  it('refuses candles on /ws/v5/public, unknown instruments and channels (60018), bad JSON (60012)', async () => {
    const pub = await new TestClient(`${sim.okx.wsUrl}/ws/v5/public`).open();
    const biz = await new TestClient(url()).open();
    try {
      pub.send({ id: 'a', op: 'subscribe', args: [{ channel: 'candle1m', instId: 'BTC-USDT' }] });
      expect(await pub.json<Event>((m) => m.id === 'a')).toMatchObject({
        event: 'error',
        code: '60018',
      });
      biz.send({ id: 'b', op: 'subscribe', args: [{ channel: 'candle1m', instId: 'NOPE-USDT' }] });
      expect(await biz.json<Event>((m) => m.id === 'b')).toMatchObject({ code: '60018' });
      biz.send({ id: 'c', op: 'subscribe', args: [{ channel: 'candle8H', instId: 'BTC-USDT' }] });
      expect(await biz.json<Event>((m) => m.id === 'c')).toMatchObject({ code: '60018' });
      biz.send('{"op":');
      expect(await biz.json<Event>((m) => m.event === 'error')).toMatchObject({ code: '60012' });
    } finally {
      pub.close();
      biz.close();
    }
  });

  it('closes a socket with 4004 once nothing has passed for the idle time, unless the client pings', async () => {
    const idle = await startSimulator({ seed: 3, start: START_MS, okxIdleCloseMs: 300 });
    const client = await new TestClient(`${idle.okx.wsUrl}/ws/v5/business`).open();
    try {
      // The client's heartbeat: a ping every 100 ms keeps the socket open past three idle times.
      const heartbeat = setInterval(() => client.send('ping'), 100);
      try {
        for (let pongs = 0; pongs < 10; pongs++) await client.next((f) => f === 'pong', 2000);
      } finally {
        clearInterval(heartbeat);
      }
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      // Then silence both ways: the server cuts it.
      const closed = await client.closed;
      expect(closed.code).toBe(4004);
    } finally {
      client.close();
      await idle.close();
    }
  });

  it('closed bars come once each, in order, with no gaps; malformed frames on demand', async () => {
    const fast = await startSimulator({
      seed: 3,
      start: Date.UTC(2024, 4, 6, 12, 0, 30),
      speed: 600,
    });
    const client = await new TestClient(`${fast.okx.wsUrl}/ws/v5/business`).open();
    try {
      client.send({ op: 'subscribe', args: [{ channel: 'candle1m', instId: 'ETH-USDT' }] });
      await client.json<Event>((m) => m.event === 'subscribe');
      const opens: number[] = [];
      while (opens.length < 6) {
        const push = await client.json<Push>((m) => m.data?.[0]?.[8] === '1', 8000);
        opens.push(Number(push.data[0]?.[0]));
      }
      expect(opens.slice(1).map((t, i) => t - (opens[i] as number))).toEqual(Array(5).fill(MINUTE));
      fast.faults.sendMalformed(3, 'okx');
      const bad: string[] = [];
      for (let i = 0; i < 3; i++) {
        bad.push(
          await client.next((f) => {
            try {
              const value = JSON.parse(f) as Push;
              return typeof value.data?.[0]?.[0] !== 'string';
            } catch {
              return true;
            }
          }),
        );
      }
      expect(bad[0]).toMatch(/^not json/);
    } finally {
      client.close();
      await fast.close();
    }
  });
});
