import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { TestClient } from './ws-client.js';

// Tuesday 2024-05-07 10:30 New York (regular session).
const START_MS = Date.UTC(2024, 4, 7, 14, 30, 0);
const open: Array<Simulator | TestClient> = [];

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({
    seed: 9,
    start: START_MS,
    polygonApiKey: 'test-key',
    ...options,
  });
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

interface AggsBody {
  ticker: string;
  queryCount: number;
  resultsCount: number;
  adjusted: boolean;
  results?: Array<{
    v: number;
    vw: number;
    o: number;
    c: number;
    h: number;
    l: number;
    t: number;
    n: number;
  }>;
  status: string;
  request_id: string;
  next_url?: string;
}

interface Status {
  ev: string;
  status: string;
  message: string;
}

describe('Polygon REST aggregates', () => {
  it('authenticates by apiKey or Bearer and answers 401 bodies otherwise', async () => {
    const s = await sim();
    const path = `${s.polygon.restUrl}/v2/aggs/ticker/AAPL/range/1/day/2024-05-01/2024-05-03`;
    const none = await fetch(path);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ status: 'ERROR', error: 'API Key was not provided' });
    const wrong = await fetch(`${path}?apiKey=nope`);
    expect(await wrong.json()).toMatchObject({ status: 'ERROR', error: 'Unknown API Key' });
    const bearer = await fetch(path, { headers: { Authorization: 'Bearer test-key' } });
    expect(bearer.status).toBe(200);
    const body = (await bearer.json()) as AggsBody;
    expect(body).toMatchObject({ ticker: 'AAPL', resultsCount: 3, adjusted: true, status: 'OK' });
    expect(body.results?.map((r) => new Date(r.t).toISOString())).toEqual([
      '2024-05-01T04:00:00.000Z',
      '2024-05-02T04:00:00.000Z',
      '2024-05-03T04:00:00.000Z',
    ]);
    for (const r of body.results ?? []) {
      expect(Object.keys(r).sort()).toEqual(['c', 'h', 'l', 'n', 'o', 't', 'v', 'vw']);
      expect(Object.values(r).every((v) => typeof v === 'number')).toBe(true);
      expect(r.l).toBeLessThanOrEqual(Math.min(r.o, r.c));
    }
  });

  it('omits results when empty and rejects bad parameters with 400', async () => {
    const s = await sim();
    const base = `${s.polygon.restUrl}/v2/aggs/ticker`;
    const empty = (await (
      await fetch(`${base}/NOTATICKER/range/1/day/2024-05-01/2024-05-03?apiKey=test-key`)
    ).json()) as AggsBody;
    expect(empty).toMatchObject({ resultsCount: 0, status: 'OK' });
    expect('results' in empty).toBe(false);
    const bad = await fetch(`${base}/AAPL/range/1/fortnight/2024-05-01/2024-05-03?apiKey=test-key`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'ERROR' });
  });

  it('pages with next_url (no key in it) and the pages equal the market model', async () => {
    const s = await sim();
    const fromMs = START_MS - 6 * 3_600_000;
    let url: string | undefined =
      `${s.polygon.restUrl}/v2/aggs/ticker/MSFT/range/1/minute/${fromMs}/${START_MS - 1}?sort=asc&limit=50`;
    const bars: NonNullable<AggsBody['results']> = [];
    let pages = 0;
    while (url) {
      const res = await fetch(url, { headers: { Authorization: 'Bearer test-key' } });
      const body = (await res.json()) as AggsBody;
      expect(body.queryCount).toBeLessThanOrEqual(50);
      bars.push(...(body.results ?? []));
      if (body.next_url) expect(body.next_url).not.toContain('test-key');
      url = body.next_url;
      pages++;
    }
    expect(pages).toBeGreaterThan(2);
    const truth = s.market.polygonBars('MSFT', 1, 'minute', fromMs, START_MS - 1);
    expect(bars.map((b) => [b.t, b.o, b.h, b.l, b.c, b.v])).toEqual(
      truth.map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]),
    );
    expect(truth.length).toBeLessThan(360); // minutes without trades are absent
  });

  it('answers failHttp with the Polygon body and Retry-After', async () => {
    const s = await sim();
    s.faults.failHttp(1, 429, { retryAfterSec: 12, venue: 'polygon' });
    const res = await fetch(
      `${s.polygon.restUrl}/v2/aggs/ticker/AAPL/range/1/day/2024-05-01/2024-05-03?apiKey=test-key`,
    );
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '12']);
    expect(await res.json()).toMatchObject({ status: 'ERROR' });
  });
});

describe('Polygon WebSocket', () => {
  it('runs connected → auth → subscribe acks, then AM events agreeing with REST', async () => {
    const s = await sim({ speed: 600 });
    const c = await client(`${s.polygon.wsUrl}/stocks`);
    expect(await c.json()).toEqual([
      { ev: 'status', status: 'connected', message: 'Connected Successfully' },
    ]);
    c.send({ action: 'auth', params: 'test-key' });
    expect(await c.json()).toEqual([
      { ev: 'status', status: 'auth_success', message: 'authenticated' },
    ]);
    c.send({ action: 'subscribe', params: 'AM.AAPL,AM.NOTATICKER,ZZ.AAPL' });
    expect(await c.json()).toEqual([
      { ev: 'status', status: 'success', message: 'subscribed to: AM.AAPL' },
      { ev: 'status', status: 'success', message: 'subscribed to: AM.NOTATICKER' },
    ]);
    const events: Array<Record<string, number | string>> = [];
    while (events.length < 5) {
      const batch = await c.json<Array<Record<string, number | string>>>();
      for (const e of batch) {
        expect(e.ev).toBe('AM');
        expect(e.sym).toBe('AAPL');
        events.push(e);
      }
    }
    const first = events[0] as Record<string, number>;
    expect(Object.keys(first)).toEqual([
      'ev',
      'sym',
      'v',
      'av',
      'op',
      'vw',
      'o',
      'c',
      'h',
      'l',
      'a',
      'z',
      's',
      'e',
    ]);
    const firstStartMs = first.s as number;
    expect(first.e).toBe(firstStartMs + 60_000);
    const lastStartMs = (events[events.length - 1] as Record<string, number>).s as number;
    const truth = s.market.polygonBars('AAPL', 1, 'minute', firstStartMs, lastStartMs);
    expect(events.map((e) => [e.s, e.o, e.h, e.l, e.c, e.v])).toEqual(
      truth.map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]),
    );
  });

  it('sends A events per second with wildcards', async () => {
    const s = await sim({ speed: 10 });
    const c = await client(`${s.polygon.wsUrl}/stocks`);
    c.send({ action: 'auth', params: 'test-key' });
    await c.json((m: Status[]) => m[0]?.status === 'auth_success');
    c.send({ action: 'subscribe', params: 'A.*' });
    await c.json((m: Status[]) => m[0]?.status === 'success');
    const batch = await c.json<Array<Record<string, number | string>>>((m) => m[0]?.ev === 'A');
    expect(batch.length).toBeGreaterThan(0);
    for (const e of batch) {
      expect(e.ev).toBe('A');
      expect(e.e).toBe((e.s as number) + 1000);
    }
  });

  it('fails a bad key with an abrupt close and evicts the older connection of a key', async () => {
    const s = await sim();
    const bad = await client(`${s.polygon.wsUrl}/stocks`);
    bad.send({ action: 'auth', params: 'wrong' });
    expect(await bad.json((m: Status[]) => m[0]?.status === 'auth_failed')).toEqual([
      { ev: 'status', status: 'auth_failed', message: 'authentication failed' },
    ]);
    expect((await bad.closed).code).toBe(1006);
    const older = await client(`${s.polygon.wsUrl}/stocks`);
    older.send({ action: 'auth', params: 'test-key' });
    await older.json((m: Status[]) => m[0]?.status === 'auth_success');
    const newer = await client(`${s.polygon.wsUrl}/stocks`);
    newer.send({ action: 'auth', params: 'test-key' });
    await newer.json((m: Status[]) => m[0]?.status === 'auth_success');
    expect(await older.json((m: Status[]) => m[0]?.status === 'max_connections')).toHaveLength(1);
    expect((await older.closed).code).toBe(1008);
    await s.stats.untilOpenConnections(1, 'polygon');
  });
});

describe('determinism', () => {
  it('two simulators with the same seed serve identical bars over REST', async () => {
    const a = await sim({ seed: 42 });
    const b = await sim({ seed: 42 });
    const path = `/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${START_MS - 86_400_000}&endTime=${START_MS - 1}`;
    const [ra, rb] = await Promise.all([
      fetch(`${a.binance.restUrl}${path}`).then((r) => r.json()),
      fetch(`${b.binance.restUrl}${path}`).then((r) => r.json()),
    ]);
    expect(ra).toEqual(rb);
    expect((ra as unknown[]).length).toBe(24);
  });
});
