import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataClient } from '../../../src/client.js';
import type { StreamResult } from '../../../src/core/types.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { readParquetBars } from '../../../src/writers/parquet-reader.js';
import { TestClient } from '../../simulator/ws-client.js';

const iso = (ms: number) => new Date(ms).toISOString();

async function setup() {
  const sim = await startSimulator({ seed: 5, speed: 1, start: Date.UTC(2024, 5, 1) });
  onTestFinished(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'argo-range-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const progress: [number, number][] = [];
  const client = new MarketDataClient(
    {
      providerType: 'binance',
      dataPath: dir,
      providerOptions: { restBaseUrl: sim.binance.restUrl, wsBaseUrl: sim.binance.wsUrl },
    },
    (current, total) => progress.push([current, total]),
  );
  return { sim, dir, client, progress };
}

function expectBarProgress(progress: [number, number][], total: number): void {
  expect(progress.length).toBeGreaterThan(1);
  expect(progress.every(([, t]) => t === total)).toBe(true);
  expect(progress.every(([c], i) => i === 0 || c >= (progress[i - 1] as [number, number])[0])).toBe(
    true,
  );
  expect(progress.at(-1)).toEqual([total, total]);
}

describe('Binance download ranges (DESIGN.md §4)', () => {
  it('reads day strings as whole UTC days, both ends included: January at 1h is 744 bars', async () => {
    const { client, dir, progress, sim } = await setup();
    const path = await client.download({
      ticker: 'BTCUSDT',
      startDate: '2024-01-01',
      endDate: '2024-01-31',
      multiplier: 1,
      timespan: 'hour',
    });
    expect(path).toBe(join(dir, 'BTCUSDT_2024-01-01_2024-01-31_1_hour.parquet'));
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(744);
    expect(iso(bars[0]?.time.getTime() ?? 0)).toBe('2024-01-01T00:00:00.000Z');
    expect(iso(bars.at(-1)?.time.getTime() ?? 0)).toBe('2024-01-31T23:00:00.000Z');
    const truth = sim.market.binanceBars(
      'BTCUSDT',
      '1h',
      Date.UTC(2024, 0, 1),
      Date.UTC(2024, 1, 1) - 1,
    );
    expect(bars.map((b) => b.close)).toEqual(truth.map((b) => b.close));
    // Progress counts bars, rises, and ends at its total.
    expectBarProgress(progress, 744);
  });

  it('keeps Dates and RFC 3339 instants exact: open time in [startDate, endDate]', async () => {
    const { client } = await setup();
    const exact = await client.download({
      ticker: 'BTCUSDT',
      startDate: new Date('2024-01-01T00:00:00Z'),
      endDate: new Date('2024-01-31T00:00:00Z'),
      multiplier: 1,
      timespan: 'hour',
    });
    const bars = await readParquetBars(exact);
    expect(bars).toHaveLength(721);
    expect(iso(bars.at(-1)?.time.getTime() ?? 0)).toBe('2024-01-31T00:00:00.000Z');
    const instants = await client.download({
      ticker: 'BTCUSDT',
      startDate: '2024-01-01T10:30:00Z',
      endDate: '2024-01-01T15:00:00+01:00',
      multiplier: 1,
      timespan: 'hour',
    });
    const hours = (await readParquetBars(instants)).map((b) => iso(b.time.getTime()).slice(11, 13));
    expect(hours).toEqual(['11', '12', '13', '14']);
  });

  it('downloads a non-ASCII symbol into a file inside the data directory', async () => {
    const { client, dir } = await setup();
    const path = await client.download({
      ticker: '这是测试币456',
      startDate: '2024-01-01',
      endDate: '2024-01-01',
      multiplier: 1,
      timespan: 'hour',
    });
    expect(readdirSync(dir)).toEqual(['这是测试币456_2024-01-01_2024-01-01_1_hour.parquet']);
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(24);
    expect(bars[0]?.symbol).toBe('这是测试币456');
  });

  it('downloads the history of a delisted (BREAK) pair up to its delisting', async () => {
    const { client } = await setup();
    const path = await client.download({
      ticker: 'XMRUSDT',
      startDate: '2024-02-19',
      endDate: '2024-02-29',
      multiplier: 1,
      timespan: 'hour',
    });
    const bars = await readParquetBars(path);
    // Delisted 2024-02-20 03:00 UTC: 24 + 3 hourly bars.
    expect(bars).toHaveLength(27);
    expect(iso(bars.at(-1)?.time.getTime() ?? 0)).toBe('2024-02-20T02:00:00.000Z');
  });
});

async function firstResults(provider: BinanceProvider, limit: number): Promise<StreamResult[]> {
  const out: StreamResult[] = [];
  const ac = new AbortController();
  const bound = setTimeout(() => ac.abort(), 10_000);
  try {
    for await (const result of provider.stream(ac.signal)) {
      out.push(result);
      if (out.length >= limit) break;
    }
  } finally {
    clearTimeout(bound);
  }
  return out;
}

describe('Binance symbol status', () => {
  it.each([
    ['XMRUSDT', 'BREAK'],
    ['HALTUSDT', 'HALT'],
  ])(
    'refuses to stream %s (%s) at once with a fatal INVALID_SYMBOL naming the status',
    async (symbol, status) => {
      const sim = await startSimulator({ seed: 5, speed: 60 });
      onTestFinished(() => sim.close());
      const provider = new BinanceProvider({
        symbols: ['BTCUSDT', symbol],
        interval: '1m',
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
      });
      const results = await firstResults(provider, 5);
      expect(results).toHaveLength(1);
      const error = results[0]?.[1];
      expect(error).toMatchObject({ code: 'INVALID_SYMBOL', fatal: true });
      expect(error?.message).toContain(`${symbol} (${status})`);
      expect(error?.message).not.toContain('BTCUSDT');
      expect(sim.stats.wsConnectionsOpened('binance')).toBe(0);
    },
  );

  it('lists the paused pairs in exchangeInfo with their status; their streams stay silent', async () => {
    const sim = await startSimulator({ seed: 5, speed: 60 });
    onTestFinished(() => sim.close());
    const info = (await (await fetch(`${sim.binance.restUrl}/api/v3/exchangeInfo`)).json()) as {
      symbols: { symbol: string; status: string }[];
    };
    const status = Object.fromEntries(info.symbols.map((s) => [s.symbol, s.status]));
    expect(status).toMatchObject({ BTCUSDT: 'TRADING', XMRUSDT: 'BREAK', HALTUSDT: 'HALT' });
    expect(status['这是测试币456']).toBe('TRADING');
    // With no range, klines give the newest bars, which end at the delisting.
    const recent = await fetch(
      `${sim.binance.restUrl}/api/v3/klines?symbol=XMRUSDT&interval=1m&limit=5`,
    );
    const rows = (await recent.json()) as [number][];
    expect(rows.map((r) => iso(r[0]))).toEqual(
      [4, 3, 2, 1, 0].map((k) => iso(Date.UTC(2024, 1, 20, 3) - (k + 1) * 60_000)),
    );
    // One combined socket: BTCUSDT sends updates, the delisted pair sends nothing.
    const ws = await new TestClient(
      `${sim.binance.wsUrl}/stream?streams=xmrusdt@kline_1s/btcusdt@kline_1s`,
    ).open();
    onTestFinished(() => ws.close());
    for (let i = 0; i < 3; i++) await ws.next((f) => f.includes('"btcusdt@kline_1s"'));
    expect(ws.frames.filter((f) => f.includes('xmrusdt'))).toEqual([]);
  });
});

describe('Binance Unicode symbols on the stream', () => {
  it('streams 这是测试币456 closed bars (URL-encoded stream name, UTF-8 events)', async () => {
    const sim = await startSimulator({ seed: 5, speed: 600 });
    onTestFinished(() => sim.close());
    for (const connection of ['per-symbol', 'combined'] as const) {
      const provider = new BinanceProvider({
        symbols: ['这是测试币456'],
        interval: '1m',
        connection,
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
      });
      const results = await firstResults(provider, 2);
      expect(results.map(([bar, err]) => err?.code ?? bar?.symbol)).toEqual([
        '这是测试币456',
        '这是测试币456',
      ]);
    }
  });
});
