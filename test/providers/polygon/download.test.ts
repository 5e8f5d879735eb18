import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../../src/core/errors.js';
import { PolygonProvider } from '../../../src/providers/polygon/provider.js';
import { PolygonRest } from '../../../src/providers/polygon/rest.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { DuckDBWriter } from '../../../src/writers/duckdb-writer.js';
import { readParquetBars } from '../../../src/writers/parquet-reader.js';
import { JsonLinesWriter, ohlcv } from './helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'polygon-download-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const SIM_START = Date.UTC(2024, 2, 8, 15, 0); // Friday 10:00 New York
const FROM = new Date(Date.UTC(2024, 2, 4));
const TO = new Date(Date.UTC(2024, 2, 7, 23, 59));

async function sim(options: Record<string, unknown> = {}) {
  const simulator = await startSimulator({ seed: 11, speed: 600, start: SIM_START, ...options });
  onTestFinished(() => simulator.close());
  return simulator;
}

function provider(restUrl: string, apiKey: string, extra: Record<string, unknown> = {}) {
  return new PolygonProvider({
    symbols: ['AAPL'],
    interval: '1m',
    apiKey,
    restBaseUrl: restUrl,
    ...extra,
  });
}

describe('PolygonProvider construction', () => {
  it('a missing key is CONFIG_INVALID naming apiKey', () => {
    expect(() => new PolygonProvider({ symbols: ['AAPL'], interval: '1m' } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'apiKey' }),
    );
  });

  it('keeps symbols and interval', () => {
    const polygon = new PolygonProvider({
      symbols: ['AAPL', 'MSFT'],
      interval: '5m',
      apiKey: 'k-123456',
    });
    expect(polygon.getSymbols()).toEqual(['AAPL', 'MSFT']);
    expect(polygon.getInterval()).toBe('5m');
  });
});

describe('PolygonProvider.download', () => {
  it('downloads a multi-day minute range in order, exactly the venue’s bars, progress to total', async () => {
    const simulator = await sim();
    const polygon = provider(simulator.polygon.restUrl, simulator.polygon.apiKey);
    const writer = new JsonLinesWriter(join(DIR, 'aapl-1m.jsonl'));
    polygon.configWriter(writer);
    const progress: [number, number][] = [];
    const path = await polygon.download({
      ticker: 'AAPL',
      startDate: FROM,
      endDate: TO,
      multiplier: 1,
      timespan: 'minute',
      onProgress: (current, total) => progress.push([current, total]),
    });
    expect(path).toBe(writer.getOutputPath());
    const expected = simulator.market.polygonBars(
      'AAPL',
      1,
      'minute',
      FROM.getTime(),
      TO.getTime(),
    );
    expect(expected.length).toBeGreaterThan(1000);
    expect(writer.bars.map((b) => b.time.getTime())).toEqual(expected.map((b) => b.openTimeMs));
    expect(writer.bars.map(ohlcv)).toEqual(expected.map(ohlcv));
    expect(writer.calls).toEqual(['initialize', 'finalize', 'close']);
    const currents = progress.map(([current]) => current);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    expect(progress.at(-1)?.[0]).toBe(progress.at(-1)?.[1]);
  });

  it('follows next_url across pages, authenticating each page by header', async () => {
    const simulator = await sim();
    const rest = new PolygonRest({
      restBaseUrl: simulator.polygon.restUrl,
      apiKey: simulator.polygon.apiKey,
      feed: 'realtime',
      requestTimeoutMs: 5000,
      maxRetries: 0,
      pageLimit: 500,
    });
    const before = simulator.stats.httpRequests('polygon');
    const pages: number[] = [];
    const bars = [];
    for await (const page of rest.pages(
      'MSFT',
      1,
      'minute',
      FROM.getTime(),
      TO.getTime(),
      new AbortController().signal,
    )) {
      pages.push(page.length);
      bars.push(...page);
    }
    const expected = simulator.market.polygonBars(
      'MSFT',
      1,
      'minute',
      FROM.getTime(),
      TO.getTime(),
    );
    expect(pages.length).toBeGreaterThan(2);
    expect(simulator.stats.httpRequests('polygon') - before).toBe(pages.length);
    expect(bars.map((b) => b.time.getTime())).toEqual(expected.map((b) => b.openTimeMs));
  });

  it('keeps day bars at New York midnight', async () => {
    const simulator = await sim();
    const polygon = provider(simulator.polygon.restUrl, simulator.polygon.apiKey);
    const writer = new JsonLinesWriter(join(DIR, 'aapl-1d.jsonl'));
    polygon.configWriter(writer);
    await polygon.download({
      ticker: 'AAPL',
      startDate: FROM,
      endDate: TO,
      multiplier: 1,
      timespan: 'day',
    });
    expect(writer.bars.length).toBeGreaterThan(0);
    for (const bar of writer.bars) expect(bar.time.getUTCHours()).toBe(5); // EST midnight
  });

  it('writes Parquet with the venue’s bars; the key is in no file, progress message or stderr', async () => {
    const simulator = await sim();
    const key = simulator.polygon.apiKey;
    const polygon = provider(simulator.polygon.restUrl, key);
    const path = join(DIR, 'aapl-5m.parquet');
    polygon.configWriter(new DuckDBWriter(path));
    const texts: string[] = [];
    const writeStderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      texts.push(String(chunk));
      return writeStderr(chunk, ...rest);
    }) as typeof process.stderr.write;
    onTestFinished(() => {
      process.stderr.write = writeStderr;
    });
    simulator.faults.failHttp(1, 503, { venue: 'polygon' }); // a retried failure, logged nowhere
    await polygon.download({
      ticker: 'AAPL',
      startDate: FROM,
      endDate: TO,
      multiplier: 5,
      timespan: 'minute',
      onProgress: (_current, _total, message) => texts.push(message ?? ''),
    });
    const expected = simulator.market.polygonBars(
      'AAPL',
      5,
      'minute',
      FROM.getTime(),
      TO.getTime(),
    );
    const rows = await readParquetBars(path);
    expect(rows.map((b) => b.time.getTime())).toEqual(expected.map((b) => b.openTimeMs));
    expect(rows.map(ohlcv)).toEqual(expected.map(ohlcv));
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) expect(text).not.toContain(key);
    expect(readFileSync(path).includes(Buffer.from(key))).toBe(false);
    expect(readFileSync(path, 'latin1')).not.toContain(key);
  });

  it('401 is fatal AUTH_FAILED, says what to do, never shows the key, leaves no file', async () => {
    const simulator = await sim();
    const badKey = 'WRONG-key-9f8e7d6c5b';
    const polygon = provider(simulator.polygon.restUrl, badKey);
    const writer = new JsonLinesWriter(join(DIR, 'never.jsonl'));
    polygon.configWriter(writer);
    const error = await polygon
      .download({ ticker: 'AAPL', startDate: FROM, endDate: TO, multiplier: 1, timespan: 'minute' })
      .catch((e: unknown) => e);
    expect(MarketDataError.is(error)).toBe(true);
    const failure = error as MarketDataError;
    expect([failure.code, failure.fatal]).toEqual(['AUTH_FAILED', true]);
    expect(failure.message).toMatch(/key/i);
    expect(`${failure.message} ${String(failure.stack)}`).not.toContain(badKey);
    expect(writer.calls).toEqual(['initialize', 'close']);
    expect(existsSync(writer.getOutputPath())).toBe(false);
  });

  it('429 is honoured with Retry-After and the download completes', async () => {
    const simulator = await sim();
    const polygon = provider(simulator.polygon.restUrl, simulator.polygon.apiKey);
    const writer = new JsonLinesWriter(join(DIR, 'aapl-429.jsonl'));
    polygon.configWriter(writer);
    simulator.faults.failHttp(2, 429, { retryAfterSec: 1, venue: 'polygon' });
    const startedMs = Date.now();
    await polygon.download({
      ticker: 'AAPL',
      startDate: FROM,
      endDate: TO,
      multiplier: 5,
      timespan: 'minute',
    });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(950);
    const expected = simulator.market.polygonBars(
      'AAPL',
      5,
      'minute',
      FROM.getTime(),
      TO.getTime(),
    );
    expect(writer.bars.map((b) => b.time.getTime())).toEqual(expected.map((b) => b.openTimeMs));
  });

  it('abort after the first window is written stops promptly with ABORTED and leaves no file', async () => {
    const simulator = await sim();
    simulator.faults.setRestLatency(300, 'polygon');
    const polygon = provider(simulator.polygon.restUrl, simulator.polygon.apiKey);
    const dir = join(DIR, 'aborted');
    mkdirSync(dir);
    polygon.configWriter(new DuckDBWriter(join(dir, 'aborted.parquet')));
    const ac = new AbortController();
    const download = polygon.download({
      ticker: 'AAPL',
      startDate: new Date(Date.UTC(2023, 0, 1)),
      endDate: TO,
      multiplier: 1,
      timespan: 'minute',
      signal: ac.signal,
      onProgress: (current) => {
        // The first window is in the writer and later ones are in flight (300 ms each).
        if (current > 0 && !ac.signal.aborted) {
          abortedAtMs = Date.now();
          ac.abort();
        }
      },
    });
    let abortedAtMs = 0;
    const error = await download.catch((e: unknown) => e);
    expect(abortedAtMs).toBeGreaterThan(0);
    expect(Date.now() - abortedAtMs).toBeLessThan(250);
    expect((error as MarketDataError).code).toBe('ABORTED');
    expect(readdirSync(dir)).toEqual([]); // neither the file nor a temporary one
  });
});
