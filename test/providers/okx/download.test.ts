import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../../src/core/errors.js';
import { bucketStartMs } from '../../../src/core/intervals.js';
import type { DownloadParams, Interval } from '../../../src/core/types.js';
import { OkxProvider } from '../../../src/providers/okx/provider.js';
import { type SimulatorOptions, startSimulator } from '../../../src/simulator/index.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';
import { valuesOf } from '../binance/helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW_MS = Date.UTC(2024, 5, 1, 12, 0, 30);
type Sim = Awaited<ReturnType<typeof startSimulator>>;

async function setup(
  extra: Partial<ConstructorParameters<typeof OkxProvider>[0]> = {},
  simOptions: SimulatorOptions = {},
) {
  const sim = await startSimulator({ seed: 11, speed: 1, start: NOW_MS, ...simOptions });
  onTestFinished(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'argo-okx-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const client = new OkxProvider({
    symbols: ['BTC-USDT'],
    interval: '1m',
    restBaseUrl: sim.okx.restUrl,
    wsBaseUrl: sim.okx.wsUrl,
    reconnectInitialDelayMs: 10,
    reconnectMaxDelayMs: 50,
    requestTimeoutMs: 2000,
    ...extra,
  });
  const path = join(dir, 'out.json');
  const writer = new MemoryWriter(path);
  client.configWriter(writer);
  return { sim, client, writer, path };
}

function truth(sim: Sim, interval: Interval, fromMs: number, toMs: number) {
  return sim.market.binanceBars('BTCUSDT', interval, fromMs, toMs).map((b) => ({
    openTimeMs: b.openTimeMs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
  }));
}

const OLD = {
  ticker: 'btc-usdt',
  startDate: new Date(Date.UTC(2024, 0, 1)),
  endDate: new Date(Date.UTC(2024, 0, 3, 23, 59, 59, 999)),
  multiplier: 1,
  timespan: 'hour',
} satisfies DownloadParams;

describe('OkxProvider.download against the simulator', () => {
  it('writes an old range from history-candles, ascending, once each, with progress in bars', async () => {
    const { sim, client, writer, path } = await setup();
    const progress: [number, number][] = [];
    const result = await client.download({
      ...OLD,
      onProgress: (current, total) => progress.push([current, total]),
    });
    expect(result).toBe(path);
    expect(writer.rows).toHaveLength(72);
    expect(writer.rows[0]?.id).toBe(`BTC-USDT-1h-${Date.UTC(2024, 0, 1)}`);
    expect(writer.rows.map(valuesOf)).toEqual(
      truth(sim, '1h', OLD.startDate.getTime(), OLD.endDate.getTime()),
    );
    expect(progress.at(-1)).toEqual([72, 72]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(72);
    expect(writer.calls).toEqual(['initialize', 'finalize', 'close']);
  });

  it('pages a range reaching now through both endpoints and never writes the forming bar', async () => {
    const { sim, client, writer } = await setup();
    const startMs = bucketStartMs('1m', NOW_MS) - 2000 * MINUTE;
    await client.download({
      ticker: 'BTC-USDT',
      startDate: new Date(startMs),
      endDate: new Date(NOW_MS + HOUR),
      multiplier: 1,
      timespan: 'minute',
    });
    const lastClosedMs = bucketStartMs('1m', sim.clock.now()) - MINUTE;
    const opens = writer.rows.map((r) => r.time.getTime());
    expect(opens[0]).toBe(startMs);
    expect(opens.at(-1)).toBeLessThanOrEqual(lastClosedMs);
    expect(opens.slice(1).every((t, i) => t - (opens[i] as number) === MINUTE)).toBe(true);
    expect(writer.rows.map(valuesOf)).toEqual(truth(sim, '1m', startMs, opens.at(-1) as number));
  });

  it('fills from history-candles what the sliding 1,440-bar candles window lost while a request waited', async () => {
    // Speed 2400 and 3 s per answer: the window moves 120 bars during one request, more than
    // the margin, so the oldest bars of a `candles` page are gone by the time it is served.
    const { sim, client, writer } = await setup({ requestTimeoutMs: 10_000 }, { speed: 2400 });
    sim.faults.setRestLatency(3000, 'okx');
    const nowMs = sim.clock.now();
    const startMs = bucketStartMs('1m', nowMs) - 1400 * MINUTE;
    const endMs = bucketStartMs('1m', nowMs) - 100 * MINUTE;
    await client.download({
      ticker: 'BTC-USDT',
      startDate: new Date(startMs),
      endDate: new Date(endMs),
      multiplier: 1,
      timespan: 'minute',
    });
    expect(writer.rows).toHaveLength(1301);
    expect(writer.rows.map(valuesOf)).toEqual(truth(sim, '1m', startMs, endMs));
  });

  it('6h and 1d bars are the UTC-aligned ones (the …utc names), as on the other venues', async () => {
    const { sim, client, writer } = await setup({ interval: '6h' });
    await client.download({ ...OLD, multiplier: 6, timespan: 'hour' });
    expect(writer.rows.map((r) => new Date(r.time).getUTCHours())).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 4) * 6),
    );
    expect(writer.rows.map(valuesOf)).toEqual(
      truth(sim, '6h', OLD.startDate.getTime(), OLD.endDate.getTime()),
    );
  });

  it('stays inside the history-candles limit (20 / 2 s) and rides out forced 50011s', async () => {
    const { sim, client, writer } = await setup({ downloadConcurrency: 8 });
    sim.faults.failHttp(2, 429, { venue: 'okx' });
    // 3 days of minutes: 44 pages of 100, more than two windows' worth.
    await client.download({
      ticker: 'BTC-USDT',
      startDate: new Date(Date.UTC(2024, 1, 1)),
      endDate: new Date(Date.UTC(2024, 1, 3, 23, 59, 59, 999)),
      multiplier: 1,
      timespan: 'minute',
    });
    expect(writer.rows).toHaveLength(3 * 1440);
    expect(sim.stats.rateLimitRefusals(429, 'okx')).toBe(0);
  });

  it('refuses an unknown instrument (51001) and a bad id with INVALID_SYMBOL, writing no file', async () => {
    const { client, path } = await setup();
    const failure = await client.download({ ...OLD, ticker: 'NOPE-USDT' }).catch((e) => e);
    expect(failure).toBeInstanceOf(MarketDataError);
    expect(failure).toMatchObject({ code: 'INVALID_SYMBOL', fatal: true });
    expect(String(failure.message)).toMatch(/NOPE-USDT/);
    expect(existsSync(path)).toBe(false);
    await expect(client.download({ ...OLD, ticker: 'BTC/USDT' })).rejects.toMatchObject({
      code: 'INVALID_SYMBOL',
    });
  });

  it('refuses 8h with INVALID_INTERVAL naming the intervals OKX has', async () => {
    const { client } = await setup();
    const failure = await client
      .download({ ...OLD, multiplier: 8, timespan: 'hour' })
      .catch((e) => e);
    expect(failure).toMatchObject({ code: 'INVALID_INTERVAL' });
    expect(String(failure.message)).toMatch(/has 1s, 1m, .*12h, 1d, 3d, 1w, 1M/);
    expect(() => new OkxProvider({ symbols: ['BTC-USDT'], interval: '8h' as '1m' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INTERVAL' }),
    );
  });
});
