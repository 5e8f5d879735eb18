import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { TestClient } from './ws-client.js';

const START_MS = Date.UTC(2024, 4, 6, 12, 30, 15, 500);
const MINUTE = 60_000;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, start: START_MS, speed: 60 });
});
afterAll(() => sim.close());

interface Envelope<T> {
  retCode: number;
  retMsg: string;
  result: T;
  time: number;
}
type Kline = Envelope<{ category: string; symbol: string; list: string[][] }>;

async function get<T>(
  path: string,
  base = sim.bybit.restUrl,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
}

describe('Bybit REST (PROTOCOLS.md §5.2)', () => {
  it('answers time and instruments-info; unknown symbols give an empty list', async () => {
    const time = await get<Envelope<{ timeSecond: string; timeNano: string }>>('/v5/market/time');
    expect(time.body.retCode).toBe(0);
    expect(Math.abs(Number(time.body.result.timeSecond) * 1000 - sim.clock.now())).toBeLessThan(
      5000,
    );
    const one = await get<Envelope<{ list: Array<{ symbol: string; status: string }> }>>(
      '/v5/market/instruments-info?category=spot&symbol=BTCUSDT',
    );
    expect(one.body.result.list).toMatchObject([{ symbol: 'BTCUSDT', status: 'Trading' }]);
    const none = await get<Envelope<{ list: unknown[] }>>(
      '/v5/market/instruments-info?category=spot&symbol=NOPEUSDT',
    );
    expect(none.body.retCode).toBe(0);
    expect(none.body.result.list).toEqual([]);
  });

  it('serves newest first, the forming bar included, equal to the market ground truth', async () => {
    const nowMs = sim.clock.now();
    const { body } = await get<Kline>(
      '/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&limit=5',
    );
    expect(body.retCode).toBe(0);
    const starts = body.result.list.map((row) => Number(row[0]));
    expect(starts).toHaveLength(5);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    // The newest row is the forming minute: it has not closed by the server's clock.
    expect((starts[0] as number) + MINUTE).toBeGreaterThan(nowMs);
    const truth = sim.market.binanceBars('BTCUSDT', '1m', starts[4] as number, starts[1] as number);
    const closed = body.result.list.slice(1).reverse();
    expect(
      closed.map((r) => [
        Number(r[0]),
        Number(r[1]),
        Number(r[2]),
        Number(r[3]),
        Number(r[4]),
        Number(r[5]),
      ]),
    ).toEqual(truth.map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]));
    for (const row of body.result.list) {
      expect(row).toHaveLength(7);
      for (const cell of row) expect(typeof cell).toBe('string');
    }
  });

  it('selects by start with both bounds inclusive and returns the newest `limit` of the range', async () => {
    const from = Date.UTC(2024, 4, 6, 10, 0);
    const to = from + 9 * MINUTE;
    const { body } = await get<Kline>(
      `/v5/market/kline?category=spot&symbol=ETHUSDT&interval=1&start=${from}&end=${to}&limit=4`,
    );
    expect(body.result.list.map((r) => Number(r[0]))).toEqual([
      to,
      to - MINUTE,
      to - 2 * MINUTE,
      to - 3 * MINUTE,
    ]);
  });

  it('a 5-minute bar is the aggregate of its 1-minute bars', async () => {
    const from = Date.UTC(2024, 4, 6, 9, 0);
    const five = await get<Kline>(
      `/v5/market/kline?category=spot&symbol=BTCUSDT&interval=5&start=${from}&end=${from}`,
    );
    const ones = await get<Kline>(
      `/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&start=${from}&end=${from + 4 * MINUTE}`,
    );
    const bar = five.body.result.list[0] as string[];
    const rows = ones.body.result.list.slice().reverse();
    expect(Number(bar[1])).toBe(Number(rows[0]?.[1]));
    expect(Number(bar[4])).toBe(Number(rows[4]?.[4]));
    expect(Number(bar[2])).toBe(Math.max(...rows.map((r) => Number(r[2]))));
    expect(Number(bar[3])).toBe(Math.min(...rows.map((r) => Number(r[3]))));
    expect(Number(bar[5])).toBeCloseTo(
      rows.reduce((s, r) => s + Number(r[5]), 0),
      8,
    );
  });

  it('errors are HTTP 200 with retCode 10001; a missing category=spot is refused', async () => {
    const badSymbol = await get<Kline>('/v5/market/kline?category=spot&symbol=NOPE&interval=1');
    expect(badSymbol.status).toBe(200);
    expect(badSymbol.body.retCode).toBe(10001);
    const badInterval = await get<Kline>(
      '/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1m',
    );
    expect(badInterval.body.retCode).toBe(10001);
    const noCategory = await get<Kline>('/v5/market/kline?symbol=BTCUSDT&interval=1');
    expect(noCategory.body.retCode).toBe(10001);
  });

  it('past its limit Bybit answers 403 and keeps banning the IP', async () => {
    const limited = await startSimulator({
      seed: 3,
      start: START_MS,
      bybitRequestLimit: { requests: 3, windowMs: 60_000, banMs: 60_000 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await get('/v5/market/time', limited.bybit.restUrl)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 403, 403]);
      expect((await get<string>('/v5/market/time', limited.bybit.restUrl)).body).toBe(
        'access too frequent',
      );
    } finally {
      await limited.close();
    }
  });

  it('forced faults take the Bybit shapes (429 retCode 10006, 418 becomes the 403 ban)', async () => {
    sim.faults.failHttp(1, 429, { venue: 'bybit' });
    const tooMany = await get<Envelope<unknown>>('/v5/market/time');
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.retCode).toBe(10006);
    sim.faults.failHttp(1, 418, { venue: 'bybit' });
    expect((await get('/v5/market/time')).status).toBe(403);
    expect((await get('/v5/market/time')).status).toBe(200);
  });
});

interface Push {
  topic: string;
  type: string;
  ts: number;
  data: Array<{
    start: number;
    end: number;
    interval: string;
    open: string;
    close: string;
    high: string;
    low: string;
    volume: string;
    confirm: boolean;
  }>;
}

describe('Bybit WebSocket (PROTOCOLS.md §5.3)', () => {
  const url = (): string => `${sim.bybit.wsUrl}/v5/public/spot`;

  it('acks a subscribe, answers ping with pong, pushes confirm:true bars equal to REST', async () => {
    const client = await new TestClient(url()).open();
    try {
      client.send({ req_id: '1', op: 'subscribe', args: ['kline.1.BTCUSDT'] });
      const ack = await client.json<{ success: boolean; op: string; req_id: string }>(
        (m) => m.op === 'subscribe',
      );
      expect(ack).toMatchObject({ success: true, ret_msg: 'subscribe', req_id: '1' });
      client.send({ req_id: 'p', op: 'ping' });
      expect(await client.json<{ ret_msg: string }>((m) => m.ret_msg === 'pong')).toMatchObject({
        success: true,
        op: 'ping',
      });
      const forming = await client.json<Push>(
        (m) => m.topic === 'kline.1.BTCUSDT' && m.data[0]?.confirm === false,
      );
      expect(forming.type).toBe('snapshot');
      const final = await client.json<Push>(
        (m) => m.topic === 'kline.1.BTCUSDT' && m.data[0]?.confirm === true,
        8000,
      );
      const bar = final.data[0];
      if (!bar) throw new Error('no bar');
      expect(bar.end).toBe(bar.start + MINUTE - 1);
      expect(bar.interval).toBe('1');
      const [truth] = sim.market.binanceBars('BTCUSDT', '1m', bar.start, bar.start);
      expect([
        Number(bar.open),
        Number(bar.high),
        Number(bar.low),
        Number(bar.close),
        Number(bar.volume),
      ]).toEqual([truth?.open, truth?.high, truth?.low, truth?.close, truth?.volume]);
    } finally {
      client.ws.close();
      await client.closed;
    }
  });

  it('refuses more than 10 args per request and unknown symbols', async () => {
    const client = await new TestClient(url()).open();
    try {
      const eleven = Array.from(
        { length: 11 },
        (_, i) => `kline.${[1, 3, 5, 15, 30, 60, 120, 240, 360, 720, 'D'][i]}.BTCUSDT`,
      );
      client.send({ req_id: 'a', op: 'subscribe', args: eleven });
      expect(await client.json<{ req_id: string }>((m) => m.req_id === 'a')).toMatchObject({
        success: false,
      });
      client.send({ req_id: 'b', op: 'subscribe', args: ['kline.1.NOPEUSDT'] });
      expect(await client.json<{ req_id: string }>((m) => m.req_id === 'b')).toMatchObject({
        success: false,
      });
      client.send({ req_id: 'c', op: 'subscribe', args: eleven.slice(0, 10) });
      expect(await client.json<{ req_id: string }>((m) => m.req_id === 'c')).toMatchObject({
        success: true,
      });
    } finally {
      client.ws.close();
      await client.closed;
    }
  });

  it('sends some confirm:true bars twice (the duplicate trap), one per start otherwise', async () => {
    // At speed 60 a 1m bar closes every real second; every 7th minute is duplicated.
    const fast = await startSimulator({
      seed: 3,
      start: Date.UTC(2024, 4, 6, 12, 0, 30),
      speed: 600,
    });
    const client = await new TestClient(`${fast.bybit.wsUrl}/v5/public/spot`).open();
    try {
      client.send({ req_id: '1', op: 'subscribe', args: ['kline.1.BTCUSDT'] });
      const counts = new Map<number, number>();
      while (counts.size < 9) {
        const push = await client.json<Push>((m) => m.data?.[0]?.confirm === true, 8000);
        const start = push.data[0]?.start as number;
        counts.set(start, (counts.get(start) ?? 0) + 1);
      }
      const dupes = [...counts].filter(([start]) => (start / MINUTE) % 7 === 0);
      expect(dupes.length).toBeGreaterThan(0);
      for (const [start, count] of counts) {
        if (start === Math.max(...counts.keys())) continue;
        expect(count).toBe((start / MINUTE) % 7 === 0 ? 2 : 1);
      }
    } finally {
      client.ws.close();
      await client.closed;
      await fast.close();
    }
  });
});
