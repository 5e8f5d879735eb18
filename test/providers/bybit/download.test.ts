import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../../src/core/errors.js';
import { parseDownloadConfig } from '../../../src/registry.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';
import { valuesOf } from '../binance/helpers.js';
import { bybit, type Sim, simulator, truth } from './helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function withWriter(sim: Sim, extra: Parameters<typeof bybit>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'argo-bybit-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const provider = bybit(sim, { symbols: ['BTCUSDT'], ...extra });
  const path = join(dir, 'out.json');
  const writer = new MemoryWriter(path);
  provider.configWriter(writer);
  return { provider, writer, path };
}

describe('BybitProvider.download against the simulator (PROTOCOLS.md §5.2)', () => {
  it('writes whole UTC days ascending, equal to the venue, progress counted in bars', async () => {
    const sim = await simulator({ speed: 1, start: Date.UTC(2024, 5, 1) });
    const { provider, writer, path } = withWriter(sim, { interval: '1h' });
    // Day strings as the CLI and MarketDataClient pass them: whole days in UTC.
    const config = parseDownloadConfig('bybit', {
      ticker: 'btcusdt',
      startDate: '2024-01-01',
      endDate: '2024-03-01',
      interval: '1h',
    });
    const progress: Array<[number, number]> = [];
    const out = await provider.download({
      ticker: config.ticker,
      startDate: config.startDate,
      endDate: config.endDate,
      onProgress: (current, total) => progress.push([current, total]),
    });
    expect(out).toBe(path);
    const fromMs = Date.UTC(2024, 0, 1);
    const toMs = Date.UTC(2024, 2, 1, 23);
    // 2024-01-01 00:00 … 2024-03-01 23:00: 61 days × 24 h = 1464 bars, two pages.
    expect(writer.rows).toHaveLength(1464);
    expect(writer.rows.map(valuesOf)).toEqual(truth(sim, 'BTCUSDT', '1h', fromMs, toMs));
    expect(writer.rows[0]?.id).toBe(`BTCUSDT-1h-${fromMs}`);
    expect(progress[0]).toEqual([0, 1464]);
    expect(progress.at(-1)).toEqual([1464, 1464]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(1464);
  });

  it('drops the forming bar by the venue clock although REST serves it', async () => {
    const startMs = Date.UTC(2024, 4, 6, 12, 30, 15);
    const sim = await simulator({ speed: 1, start: startMs });
    const { provider, writer } = withWriter(sim);
    await provider.download({
      ticker: 'BTCUSDT',
      startDate: new Date(startMs - 2 * HOUR),
      endDate: new Date(startMs + HOUR),
      multiplier: 1,
      timespan: 'minute',
    });
    const nowMs = sim.clock.now();
    const lastClosedMs = Math.floor(nowMs / MINUTE) * MINUTE - MINUTE;
    const last = writer.rows.at(-1)?.time.getTime() ?? 0;
    // REST's newest row is the forming minute; the file ends at the last closed one.
    expect(last).toBeGreaterThanOrEqual(lastClosedMs - MINUTE);
    expect(last + MINUTE).toBeLessThanOrEqual(nowMs);
    expect(writer.rows.map(valuesOf)).toEqual(
      truth(sim, 'BTCUSDT', '1m', startMs - 2 * HOUR, last),
    );
  });

  it('refuses an unknown symbol (INVALID_SYMBOL) and leaves no file', async () => {
    const sim = await simulator({ speed: 1, start: Date.UTC(2024, 5, 1) });
    const { provider, writer, path } = withWriter(sim);
    const error = await provider
      .download({
        ticker: 'NOPEUSDT',
        startDate: new Date(Date.UTC(2024, 0, 1)),
        endDate: new Date(Date.UTC(2024, 0, 2)),
        multiplier: 1,
        timespan: 'hour',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketDataError);
    expect((error as MarketDataError).code).toBe('INVALID_SYMBOL');
    expect((error as MarketDataError).message).toContain('NOPEUSDT');
    expect(writer.calls).toEqual(['initialize', 'close']);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses 8h with INVALID_INTERVAL naming what Bybit has, before any request', async () => {
    const sim = await simulator({ speed: 1, start: Date.UTC(2024, 5, 1) });
    const { provider } = withWriter(sim);
    const error = await provider
      .download({
        ticker: 'BTCUSDT',
        startDate: new Date(Date.UTC(2024, 0, 1)),
        endDate: new Date(Date.UTC(2024, 0, 2)),
        multiplier: 8,
        timespan: 'hour',
      })
      .catch((e: unknown) => e);
    expect((error as MarketDataError).code).toBe('INVALID_INTERVAL');
    expect((error as MarketDataError).message).toContain(
      '1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 1w, 1M',
    );
    expect(sim.stats.httpRequests('bybit')).toBe(0);
  });

  it('rides out 429 (retCode 10006) and 5xx answers, and stops at once on the 403 ban', async () => {
    const sim = await simulator({ speed: 1, start: Date.UTC(2024, 5, 1) });
    const range = {
      ticker: 'BTCUSDT',
      startDate: new Date(Date.UTC(2024, 0, 1)),
      endDate: new Date(Date.UTC(2024, 0, 1, 23)),
      multiplier: 1,
      timespan: 'hour',
    } as const;
    const first = withWriter(sim, { reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 20 });
    sim.faults.failHttp(1, 429, { retryAfterSec: 0, venue: 'bybit' });
    sim.faults.failHttp(1, 503, { venue: 'bybit' });
    await first.provider.download(range);
    expect(first.writer.rows).toHaveLength(24);
    // The simulator's forced ban is Bybit's 403 "access too frequent" (PROTOCOLS.md §5.2).
    const second = withWriter(sim);
    sim.faults.failHttp(1, 418, { venue: 'bybit' });
    const error = (await second.provider
      .download(range)
      .catch((e: unknown) => e)) as MarketDataError;
    expect(error.code).toBe('IP_BANNED');
    expect(error.fatal).toBe(true);
    expect(error.message).toContain('at least 10 minutes');
    expect(second.writer.calls).toEqual(['initialize', 'close']);
    expect(sim.stats.httpRequests('bybit')).toBeLessThan(12);
  });

  it('a download of 720 pages at the real limit (600 / 5 s) never draws the 403 ban', async () => {
    // 500 days of 1m bars = 720,000 bars in 720 requests: more than one 5 s window allows.
    const startMs = Date.UTC(2023, 0, 1);
    const sim = await simulator({ speed: 1, start: startMs + 500 * 24 * HOUR + 30_000 });
    const { provider, writer } = withWriter(sim, { downloadConcurrency: 8 });
    await provider.download({
      ticker: 'BTCUSDT',
      startDate: new Date(startMs),
      endDate: new Date(startMs + 500 * 24 * HOUR - 1),
      multiplier: 1,
      timespan: 'minute',
    });
    expect(writer.rows).toHaveLength(720_000);
    expect(sim.stats.httpRequests('bybit')).toBeGreaterThan(720);
    expect(sim.stats.rateLimitRefusals(418, 'bybit')).toBe(0);
  }, 60_000);
});
