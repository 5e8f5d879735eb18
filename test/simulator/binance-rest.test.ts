import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';

const START_MS = Date.UTC(2024, 4, 6, 12, 30, 15, 500);
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, start: START_MS, speed: 1 });
});
afterAll(() => sim.close());

async function get(path: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${sim.binance.restUrl}${path}`);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

type Row = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

describe('Binance REST', () => {
  it('answers ping, time and exchangeInfo with the documented shapes', async () => {
    expect((await get('/api/v3/ping')).body).toEqual({});
    const time = (await get('/api/v3/time')).body as { serverTime: number };
    expect(Number.isInteger(time.serverTime)).toBe(true);
    expect(Math.abs(time.serverTime - sim.clock.now())).toBeLessThan(1000);
    const info = await get('/api/v3/exchangeInfo?symbol=BNBBTC');
    expect(info.body).toMatchObject({
      timezone: 'UTC',
      symbols: [{ symbol: 'BNBBTC', status: 'TRADING', baseAsset: 'BNB', quoteAsset: 'BTC' }],
    });
    expect((info.body as { rateLimits: unknown[] }).rateLimits[0]).toEqual({
      rateLimitType: 'REQUEST_WEIGHT',
      interval: 'MINUTE',
      intervalNum: 1,
      limit: 6000,
    });
    const many = await get(
      `/api/v3/exchangeInfo?symbols=${encodeURIComponent('["BTCUSDT","ETHUSDT"]')}`,
    );
    expect((many.body as { symbols: { symbol: string }[] }).symbols.map((s) => s.symbol)).toEqual([
      'BTCUSDT',
      'ETHUSDT',
    ]);
    expect(await get('/api/v3/exchangeInfo?symbol=XRPXRP')).toMatchObject({
      status: 400,
      body: { code: -1121, msg: 'Invalid symbol.' },
    });
  });

  it('serves klines as 12-element rows, newest page by default, the open bar last', async () => {
    const { status, body, headers } = await get('/api/v3/klines?symbol=BTCUSDT&interval=1m');
    expect(status).toBe(200);
    const rows = body as Row[];
    expect(rows).toHaveLength(500);
    const last = rows[rows.length - 1] as Row;
    expect(last[0]).toBe(Math.floor(sim.clock.now() / 60_000) * 60_000);
    expect(last[6]).toBe(last[0] + 59_999);
    for (const row of rows.slice(-3)) {
      expect(row).toHaveLength(12);
      expect(row.map((v) => typeof v)).toEqual([
        'number',
        'string',
        'string',
        'string',
        'string',
        'string',
        'number',
        'string',
        'number',
        'string',
        'string',
        'string',
      ]);
      expect(row[1]).toMatch(/^\d+\.\d{8}$/);
    }
    expect(Number(headers.get('x-mbx-used-weight-1m'))).toBeGreaterThan(0);
    expect(headers.get('x-mbx-used-weight')).toBe(headers.get('x-mbx-used-weight-1m'));
  });

  it('selects by open time inclusive at both ends and matches the market model', async () => {
    const fromMs = START_MS - 3_600_000 + 30_000; // inside a bar: that bar is skipped
    const toMs = START_MS - 3_000_000 + 1; // inside a bar: that bar is included
    const { body } = await get(
      `/api/v3/klines?symbol=ETHUSDT&interval=5m&startTime=${fromMs}&endTime=${toMs}&limit=1000`,
    );
    const rows = body as Row[];
    const truth = sim.market.binanceBars('ETHUSDT', '5m', fromMs, toMs);
    expect(rows.map((r) => r[0])).toEqual(truth.map((b) => b.openTimeMs));
    expect(rows[0]?.[0]).toBe(Math.ceil(fromMs / 300_000) * 300_000);
    expect(rows.map((r) => [+r[1], +r[2], +r[3], +r[4], +r[5]])).toEqual(
      truth.map((b) => [b.open, b.high, b.low, b.close, b.volume]),
    );
    const limited = (await get(`/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime=0&limit=2000`))
      .body as Row[];
    expect(limited).toHaveLength(1000);
    expect(limited[0]?.[0]).toBe(0);
    const future = await get(
      `/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime=${START_MS + 86_400_000}`,
    );
    expect(future).toMatchObject({ status: 200, body: [] });
  });

  it('rejects bad parameters with the real codes and HTTP 400', async () => {
    const cases: Array<[string, number]> = [
      ['/api/v3/klines?symbol=NOPEUSDT&interval=1m', -1121],
      ['/api/v3/klines?symbol=BTCUSDT&interval=7m', -1120],
      ['/api/v3/klines?interval=1m', -1102],
      ['/api/v3/klines?symbol=BTCUSDT', -1102],
      ['/api/v3/klines?symbol=btcusdt&interval=1m', -1100],
      ['/api/v3/ticker/price?symbol=NOPEUSDT', -1121],
    ];
    for (const [path, code] of cases) {
      const { status, body } = await get(path);
      expect({ path, status, code: (body as { code: number }).code }).toEqual({
        path,
        status: 400,
        code,
      });
      expect(typeof (body as { msg: unknown }).msg).toBe('string');
    }
  });

  it('serves ticker/price for one, several and all symbols', async () => {
    const one = (await get('/api/v3/ticker/price?symbol=BTCUSDT')).body as {
      symbol: string;
      price: string;
    };
    expect(one.symbol).toBe('BTCUSDT');
    expect(Number(one.price)).toBeGreaterThan(0);
    const several = (
      await get(`/api/v3/ticker/price?symbols=${encodeURIComponent('["BTCUSDT","BNBBTC"]')}`)
    ).body as Array<{ symbol: string }>;
    expect(several.map((s) => s.symbol)).toEqual(['BTCUSDT', 'BNBBTC']);
    const all = (await get('/api/v3/ticker/price')).body as unknown[];
    expect(all.length).toBeGreaterThan(5);
  });
});

describe('Binance weight limit', () => {
  it('answers 429 with Retry-After and -1003 past the budget, then 418 when ignored', async () => {
    const small = await startSimulator({ binanceWeightLimit: 3, start: START_MS });
    try {
      const url = `${small.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`;
      expect((await fetch(url)).status).toBe(200);
      const limited = await fetch(url);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited.json()).toMatchObject({ code: -1003 });
      let status = 429;
      for (let i = 0; i < 5 && status === 429; i++) status = (await fetch(url)).status;
      expect(status).toBe(418);
      const banned = await fetch(url);
      expect(banned.status).toBe(418);
      expect(((await banned.json()) as { msg: string }).msg).toMatch(/banned until \d+/);
    } finally {
      await small.close();
    }
  });
});
