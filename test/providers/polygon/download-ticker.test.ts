// An unknown Polygon ticker is INVALID_SYMBOL, not an empty file (issue 13 point 8, Polygon side).

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../../src/core/errors.js';
import { nyDayRangeMs } from '../../../src/core/ny-calendar.js';
import { PolygonProvider } from '../../../src/providers/polygon/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { DuckDBWriter } from '../../../src/writers/duckdb-writer.js';
import { runCli } from '../../helpers/run-cli.js';
import { JsonLinesWriter } from './helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'polygon-ticker-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

async function sim() {
  const simulator = await startSimulator({ seed: 4, start: Date.UTC(2024, 3, 2, 15) });
  onTestFinished(() => simulator.close());
  return simulator;
}

function provider(simulator: Awaited<ReturnType<typeof sim>>): PolygonProvider {
  return new PolygonProvider({
    symbols: ['AAPL'],
    interval: '1m',
    apiKey: simulator.polygon.apiKey,
    restBaseUrl: simulator.polygon.restUrl,
  });
}

describe('Polygon reference tickers (simulator)', () => {
  it('answers 200 with the listing for a served ticker and 404 NOT_FOUND otherwise', async () => {
    const simulator = await sim();
    const get = (ticker: string) =>
      fetch(`${simulator.polygon.restUrl}/v3/reference/tickers/${ticker}`, {
        headers: { Authorization: `Bearer ${simulator.polygon.apiKey}` },
      });
    const known = await get('AAPL');
    expect(known.status).toBe(200);
    expect(await known.json()).toMatchObject({
      status: 'OK',
      results: { ticker: 'AAPL', market: 'stocks', active: true },
    });
    const unknown = await get('ZZZZ');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      status: 'NOT_FOUND',
      message: 'Ticker not found.',
    });
    const noKey = await fetch(`${simulator.polygon.restUrl}/v3/reference/tickers/AAPL`);
    expect(noKey.status).toBe(401);
  });
});

describe('Polygon download of an unknown ticker', () => {
  const { startMs, endMs } = nyDayRangeMs('2024-03-04', '2024-03-08');

  it('fails with a fatal INVALID_SYMBOL naming it, and leaves no file', async () => {
    const simulator = await sim();
    const polygon = provider(simulator);
    const dir = join(DIR, 'unknown');
    polygon.configWriter(new DuckDBWriter(join(dir, 'ZZZZ.parquet')));
    const error = await polygon
      .download({
        ticker: 'ZZZZ',
        startDate: new Date(startMs),
        endDate: new Date(endMs),
        multiplier: 1,
        timespan: 'minute',
      })
      .catch((e: unknown) => e);
    expect(MarketDataError.is(error)).toBe(true);
    const failure = error as MarketDataError;
    expect([failure.code, failure.fatal]).toEqual(['INVALID_SYMBOL', true]);
    expect(failure.message).toContain("'ZZZZ'");
    expect(failure.message).toMatch(/case-sensitive/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('still writes an empty file for a real ticker over a weekend', async () => {
    const simulator = await sim();
    const polygon = provider(simulator);
    const writer = new JsonLinesWriter(join(DIR, 'weekend.jsonl'));
    polygon.configWriter(writer);
    const weekend = nyDayRangeMs('2024-03-09', '2024-03-10');
    const path = await polygon.download({
      ticker: 'AAPL',
      startDate: new Date(weekend.startMs),
      endDate: new Date(weekend.endMs),
      multiplier: 1,
      timespan: 'minute',
    });
    expect(path).toBe(writer.getOutputPath());
    expect(writer.bars).toEqual([]);
    expect(writer.calls).toEqual(['initialize', 'finalize', 'close']);
  });

  it('makes the CLI fail with INVALID_SYMBOL (a usage error, exit 2) instead of writing an empty file', async () => {
    const dir = join(DIR, 'cli');
    const result = await runCli(
      [
        'download',
        '--provider',
        'polygon',
        '--ticker',
        'ZZZZ',
        '--start',
        '2024-03-04',
        '--end',
        '2024-03-05',
        '--interval',
        '1h',
        '--data',
        dir,
        '--simulate',
      ],
      {},
      20_000,
    );
    expect(result.code).toBe(2); // as for a Binance symbol the exchange does not list
    expect(result.stderr).toContain('INVALID_SYMBOL');
    expect(result.stderr).toContain('ZZZZ');
    expect(result.stdout).toBe('');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
