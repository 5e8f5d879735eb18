// Issue 9.3: hostile or broken inputs across config, CLI, REST, WebSocket and files. Each row
// asserts the exact error code, that nothing crashed (rejected or yielded in-band; for the CLI
// one line and exit 2 for usage, 1 for runtime), that no partial file was left, and that the
// Polygon key never shows up.

import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataClient, type MarketDataClientConfig } from '../src/client.js';
import { MarketDataError } from '../src/core/errors.js';
import type { MarketData, StreamResult } from '../src/core/types.js';
import { BinanceProvider } from '../src/providers/binance/provider.js';
import { PolygonProvider } from '../src/providers/polygon/provider.js';
import { createProvider, parseDownloadConfig } from '../src/registry.js';
import { startSimulator } from '../src/simulator/index.js';
import { DuckDBWriter } from '../src/writers/duckdb-writer.js';
import { StreamingDuckDBWriter } from '../src/writers/streaming-duckdb-writer.js';
import { type FakeReply, type FakeVenue, startFakeVenue } from './helpers/fake-venue.js';
import { runCli } from './helpers/run-cli.js';

/** A Polygon key as a user would have one; it must never be printed or stored. */
const SECRET = 'pkLIVE7Hq2ZsecretKEY9xw';
const HOUR = 3_600_000;
const MINUTE = 60_000;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-bad-input-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every entry under `dir`, recursively, as relative paths (hidden temp files included). */
async function listDir(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** The MarketDataError `run` threw or rejected with; fails the test on anything else. */
async function caught(run: () => unknown): Promise<MarketDataError> {
  try {
    await run();
  } catch (error) {
    expect(MarketDataError.is(error), `not a MarketDataError: ${String(error)}`).toBe(true);
    return error as MarketDataError;
  }
  throw new Error('expected a MarketDataError, but nothing was thrown');
}

/** Nothing the error (message, causes) carries may contain the key. */
function expectNoSecret(...texts: unknown[]): void {
  for (const text of texts) {
    let value: unknown = text;
    const seen = new Set<unknown>();
    while (value !== undefined && value !== null && !seen.has(value)) {
      seen.add(value);
      if (value instanceof Error) {
        expect(value.message).not.toContain(SECRET);
        expect(value.stack ?? '').not.toContain(SECRET);
        value = value.cause;
      } else {
        expect(String(value)).not.toContain(SECRET);
        value = undefined;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Config: thrown synchronously as a fatal ConfigError naming the field.

const BINANCE = { symbols: ['BTCUSDT'], interval: '1m' };
const POLYGON = { symbols: ['AAPL'], interval: '1m' as const, apiKey: SECRET };

interface ConfigRow {
  input: string;
  run: () => unknown;
  code: 'CONFIG_INVALID' | 'INVALID_INTERVAL';
  field: string;
  mentions: string;
}

const configRows: ConfigRow[] = [
  {
    input: 'unknown provider',
    run: () => createProvider('kraken', BINANCE),
    code: 'CONFIG_INVALID',
    field: 'provider',
    mentions: "unknown provider 'kraken'",
  },
  {
    input: 'config JSON text that is not JSON',
    run: () => createProvider('binance', '{"symbols": ["BTCUSDT"'),
    code: 'CONFIG_INVALID',
    field: '(root)',
    mentions: 'not valid JSON',
  },
  {
    input: 'config that is an array',
    run: () => createProvider('binance', '[1,2]'),
    code: 'CONFIG_INVALID',
    field: '(root)',
    mentions: 'must be an object',
  },
  {
    input: 'stream name injected into a Binance symbol',
    run: () => createProvider('binance', { ...BINANCE, symbols: ['btcusdt@kline_1m/ethusdt'] }),
    code: 'CONFIG_INVALID',
    field: 'symbols.0',
    mentions: 'symbols.0',
  },
  {
    input: 'path traversal as a symbol',
    run: () => createProvider('binance', { ...BINANCE, symbols: ['BTCUSDT', '../x'] }),
    code: 'CONFIG_INVALID',
    field: 'symbols.1',
    mentions: 'symbols.1',
  },
  {
    input: 'Polygon subscription injected into a ticker',
    run: () => createProvider('polygon', { ...POLYGON, symbols: ['AAPL,AM.*'] }),
    code: 'CONFIG_INVALID',
    field: 'symbols.0',
    mentions: 'symbols.0',
  },
  {
    input: 'bufferSize 1e12',
    run: () => createProvider('binance', { ...BINANCE, bufferSize: 1e12 }),
    code: 'CONFIG_INVALID',
    field: 'bufferSize',
    mentions: 'bufferSize',
  },
  {
    input: 'negative timeout',
    run: () => createProvider('binance', { ...BINANCE, connectTimeoutMs: -1 }),
    code: 'CONFIG_INVALID',
    field: 'connectTimeoutMs',
    mentions: 'connectTimeoutMs',
  },
  {
    input: 'Infinity reconnect delay',
    run: () => createProvider('binance', { ...BINANCE, reconnectInitialDelayMs: Infinity }),
    code: 'CONFIG_INVALID',
    field: 'reconnectInitialDelayMs',
    mentions: 'reconnectInitialDelayMs',
  },
  {
    input: 'symbols given as a string, not a list',
    run: () => createProvider('binance', { ...BINANCE, symbols: 'BTCUSDT' }),
    code: 'CONFIG_INVALID',
    field: 'symbols',
    mentions: 'expected array',
  },
  {
    input: 'maxRetries given as a string',
    run: () =>
      createProvider('binance', '{"symbols":["BTCUSDT"],"interval":"1m","maxRetries":"5"}'),
    code: 'CONFIG_INVALID',
    field: 'maxRetries',
    mentions: 'expected number',
  },
  {
    input: 'interval 7m',
    run: () => createProvider('binance', { ...BINANCE, interval: '7m' }),
    code: 'INVALID_INTERVAL',
    field: 'interval',
    mentions: 'interval',
  },
  {
    input: 'Polygon key with spaces',
    run: () => new PolygonProvider({ ...POLYGON, apiKey: `${SECRET} ${SECRET}` }),
    code: 'CONFIG_INVALID',
    field: 'apiKey',
    mentions: 'must not contain spaces',
  },
  {
    input: 'http:// URL as the WebSocket base',
    run: () => createProvider('binance', { ...BINANCE, wsBaseUrl: 'http://127.0.0.1:1' }),
    code: 'CONFIG_INVALID',
    field: 'wsBaseUrl',
    mentions: 'ws://',
  },
  {
    input: 'client dataPath that is a number',
    run: () =>
      new MarketDataClient({
        providerType: 'binance',
        dataPath: 5,
      } as unknown as MarketDataClientConfig),
    code: 'CONFIG_INVALID',
    field: 'dataPath',
    mentions: 'expected string',
  },
  {
    input: 'download from year 0001',
    run: () =>
      parseDownloadConfig('binance', {
        ticker: 'BTCUSDT',
        startDate: '0001-01-01',
        endDate: '2024-01-01',
        interval: '1d',
      }),
    code: 'CONFIG_INVALID',
    field: 'startDate',
    mentions: '1970',
  },
  {
    input: 'download starting in year 9999',
    run: () =>
      parseDownloadConfig('polygon', {
        ticker: 'AAPL',
        startDate: '9999-01-01',
        endDate: '9999-12-31',
        interval: '1d',
        apiKey: SECRET,
      }),
    code: 'CONFIG_INVALID',
    field: 'startDate',
    mentions: 'future',
  },
  {
    input: 'download ending before it starts',
    run: () =>
      parseDownloadConfig('binance', {
        ticker: 'BTCUSDT',
        startDate: '2024-03-02',
        endDate: '2024-03-01',
        interval: '1h',
      }),
    code: 'CONFIG_INVALID',
    field: 'endDate',
    mentions: 'before startDate',
  },
  {
    input: 'month 13',
    run: () =>
      parseDownloadConfig('binance', {
        ticker: 'BTCUSDT',
        startDate: '2024-13-01',
        endDate: '2024-12-31',
        interval: '1h',
      }),
    code: 'CONFIG_INVALID',
    field: 'startDate',
    mentions: 'not a real calendar date',
  },
  {
    input: 'writer provider name with a path',
    run: () => new StreamingDuckDBWriter('data', '../../etc', '1m'),
    code: 'CONFIG_INVALID',
    field: 'providerName',
    mentions: 'invalid provider name',
  },
];

describe('bad config', () => {
  it.each(configRows)('$input → $code on $field', async ({ run, code, field, mentions }) => {
    const error = await caught(run);
    expect(error.code).toBe(code);
    expect(error.fatal).toBe(true);
    expect((error as MarketDataError & { field?: string }).field).toBe(field);
    expect(error.message).toContain(mentions);
    expect(error.message).not.toMatch(/is required/);
    expect(error.message.split('\n')).toHaveLength(1);
    expectNoSecret(error);
  });
});

// ---------------------------------------------------------------------------------------------
// Symbols (issue 13.6): real instruments pass; anything that could reach a stream name, URL,
// subject or path is refused on every path, with CONFIG_INVALID (config) or INVALID_SYMBOL
// (a provider called directly).

const INJECTIONS: [string, string][] = [
  ['slash', 'BTC/USDT'],
  ['backslash', 'BTC\\USDT'],
  ['at', 'btcusdt@kline_1m'],
  ['question mark', 'BTC?x=1'],
  ['ampersand', 'BTC&USDT'],
  ['hash', 'BTC#USDT'],
  ['percent', 'BTC%2FUSDT'],
  ['space', 'BTC USDT'],
  ['tab', 'BTC\tUSDT'],
  ['newline', 'BTCUSDT\n'],
  ['NUL', 'BTC\u0000USDT'],
  ['DEL', 'BTC\u007fUSDT'],
  ['dot-dot', 'BRK..B'],
  ['traversal', '../x'],
  ['empty', ''],
];

const REAL_SYMBOLS: ['binance' | 'polygon', string][] = [
  ['binance', 'BTCUSDT'],
  ['binance', '这是测试币456'],
  ['polygon', 'AAPL'],
  ['polygon', 'BRK.B'],
  ['polygon', 'AMpB'],
];

describe('symbols: real instruments pass, injection fails', () => {
  it.each(REAL_SYMBOLS)('%s accepts %s in stream and download config', (venue, symbol) => {
    const extra = venue === 'polygon' ? { apiKey: SECRET } : {};
    expect(() =>
      createProvider(venue, { symbols: [symbol], interval: '1m', ...extra }),
    ).not.toThrow();
    const config = parseDownloadConfig(venue, {
      ticker: symbol,
      startDate: '2024-01-01',
      endDate: '2024-01-02',
      interval: '1h',
      ...extra,
    });
    expect(config.ticker).toBe(symbol);
  });

  it.each(INJECTIONS)('%s (%j) → CONFIG_INVALID in every config, for both venues', (_, bad) => {
    for (const venue of ['binance', 'polygon'] as const) {
      const extra = venue === 'polygon' ? { apiKey: SECRET } : {};
      const runs = [
        () => createProvider(venue, { symbols: ['AAPL', bad], interval: '1m', ...extra }),
        () =>
          parseDownloadConfig(venue, {
            ticker: bad,
            startDate: '2024-01-01',
            endDate: '2024-01-02',
            interval: '1h',
            ...extra,
          }),
      ];
      for (const [i, run] of runs.entries()) {
        let error: unknown;
        try {
          run();
        } catch (e) {
          error = e;
        }
        expect(error, `${venue} run ${i}`).toMatchObject({
          code: 'CONFIG_INVALID',
          fatal: true,
          field: i === 0 ? 'symbols.1' : 'ticker',
        });
        expect((error as Error).message.split('\n')).toHaveLength(1);
      }
    }
  });

  it.each(INJECTIONS)(
    '%s (%j) → INVALID_SYMBOL from download(), before any request',
    async (_, bad) => {
      const sim = await startSimulator({ seed: 3, speed: 1 });
      onTestFinished(() => sim.close());
      const dir = await tempDir();
      const range = {
        ticker: bad,
        startDate: new Date('2024-03-01T00:00:00Z'),
        endDate: new Date('2024-03-01T05:00:00Z'),
        multiplier: 1,
        timespan: 'hour' as const,
      };
      const binance = new BinanceProvider({
        symbols: ['BTCUSDT'],
        interval: '1h',
        restBaseUrl: sim.binance.restUrl,
      });
      binance.configWriter(new DuckDBWriter(join(dir, 'b.parquet')));
      const polygon = new PolygonProvider({
        symbols: ['AAPL'],
        interval: '1h',
        apiKey: sim.polygon.apiKey,
        restBaseUrl: sim.polygon.restUrl,
      });
      polygon.configWriter(new DuckDBWriter(join(dir, 'p.parquet')));
      for (const provider of [binance, polygon]) {
        const error = await caught(() => provider.download(range));
        expect(`${error.code}:${error.fatal}`).toBe('INVALID_SYMBOL:true');
      }
      // Through the client the schema answers first: CONFIG_INVALID on the ticker.
      const client = new MarketDataClient({
        providerType: 'binance',
        dataPath: dir,
        providerOptions: { restBaseUrl: sim.binance.restUrl },
      });
      const error = await caught(() => client.download(range));
      expect(`${error.code}:${(error as MarketDataError & { field?: string }).field}`).toBe(
        'CONFIG_INVALID:ticker',
      );
      expect(sim.stats.httpRequests()).toBe(0);
      expect(await listDir(dir)).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// REST: a venue that answers with garbage. Downloads reject; the data directory stays empty.

const SERVER_TIME_MS = Date.UTC(2024, 0, 10);
const DAY_START_MS = Date.UTC(2024, 0, 1);

function klineRow(openMs: number, overrides: Partial<Record<1 | 2 | 3 | 4 | 5, unknown>> = {}) {
  const row: unknown[] = [
    openMs,
    '100.5',
    '101.0',
    '99.5',
    '100.0',
    '12.5',
    openMs + HOUR - 1,
    '1250',
    10,
    '6',
    '600',
    '0',
  ];
  for (const [index, value] of Object.entries(overrides)) row[Number(index)] = value;
  return row;
}

/** Binance REST that lists BTCUSDT and answers klines with `klines`. */
function binanceRest(klines: FakeReply, exchangeInfo?: FakeReply) {
  return (url: URL): FakeReply | undefined => {
    if (url.pathname === '/api/v3/exchangeInfo') {
      return (
        exchangeInfo ?? {
          status: 200,
          body: JSON.stringify({
            serverTime: SERVER_TIME_MS,
            symbols: [{ symbol: 'BTCUSDT', status: 'TRADING' }],
          }),
        }
      );
    }
    if (url.pathname === '/api/v3/time') {
      return { status: 200, body: JSON.stringify({ serverTime: SERVER_TIME_MS }) };
    }
    if (url.pathname === '/api/v3/klines') return klines;
    return undefined;
  };
}

const json = (value: unknown): FakeReply => ({ status: 200, body: JSON.stringify(value) });
const GATEWAY_PAGE = `<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>CloudFront</center>\r\n</body>\r\n</html>`;
const html = (status: number, body = GATEWAY_PAGE): FakeReply => ({
  status,
  body,
  contentType: 'text/html',
});

async function fakeVenue(options: Parameters<typeof startFakeVenue>[0]): Promise<FakeVenue> {
  const venue = await startFakeVenue(options);
  onTestFinished(() => venue.close());
  return venue;
}

interface RestRow {
  input: string;
  provider: 'binance' | 'polygon';
  http: (url: URL) => FakeReply | undefined;
  code: string;
  fatal: boolean;
  mentions: string;
  ticker?: string;
}

const polygonAggs = (results: unknown[]): FakeReply =>
  json({ ticker: 'AAPL', status: 'OK', adjusted: true, resultsCount: results.length, results });
const AGG = { o: 10, h: 11, l: 9, c: 10.5, v: 1000, t: DAY_START_MS, n: 5 };

const restRows: RestRow[] = [
  {
    input: 'Binance 502 with an HTML gateway page',
    provider: 'binance',
    http: binanceRest(html(502)),
    code: 'HTTP',
    fatal: false,
    mentions: '502 Bad Gateway',
  },
  {
    input: 'Binance 200 with truncated JSON',
    provider: 'binance',
    http: binanceRest({ status: 200, body: JSON.stringify([klineRow(DAY_START_MS)]).slice(0, 30) }),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'not JSON',
  },
  {
    input: 'Binance kline with a number where a decimal string belongs',
    provider: 'binance',
    http: binanceRest(json([klineRow(DAY_START_MS, { 1: 5 })])),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed row',
  },
  {
    input: 'Binance kline with a string open time',
    provider: 'binance',
    http: binanceRest(json([['abc', ...klineRow(DAY_START_MS).slice(1)]])),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed row',
  },
  {
    input: 'Binance kline with a negative price',
    provider: 'binance',
    http: binanceRest(json([klineRow(DAY_START_MS, { 3: '-99.5' })])),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed row',
  },
  {
    input: 'Binance kline with an Infinity price',
    provider: 'binance',
    http: binanceRest(json([klineRow(DAY_START_MS, { 2: 'Infinity' })])),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed row',
  },
  {
    input: 'Binance kline with an overflowing volume (1e999)',
    provider: 'binance',
    http: binanceRest(json([klineRow(DAY_START_MS, { 5: '1e999' })])),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed row',
  },
  {
    input: 'Binance klines as an object, not a list',
    provider: 'binance',
    http: binanceRest(json({ rows: [] })),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'not an array',
  },
  {
    input: 'Binance exchangeInfo 200 with an HTML page',
    provider: 'binance',
    http: binanceRest(json([]), html(200, '<!DOCTYPE html><html><body>maintenance</body></html>')),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'not JSON',
  },
  {
    input: 'Binance -1121 for an unknown symbol',
    provider: 'binance',
    http: binanceRest(json([]), {
      status: 400,
      body: '{"code":-1121,"msg":"Invalid symbol."}',
    }),
    code: 'INVALID_SYMBOL',
    fatal: true,
    mentions: 'Invalid symbol',
    ticker: 'NOPE123',
  },
  {
    input: 'Polygon 200 with an HTML page',
    provider: 'polygon',
    http: () => html(200, '<html><body><h1>Welcome to nginx!</h1></body></html>'),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'not JSON',
  },
  {
    input: 'Polygon 401 whose body echoes the key',
    provider: 'polygon',
    http: () => ({
      status: 401,
      body: JSON.stringify({ status: 'ERROR', error: `Unknown API Key: ${SECRET}` }),
    }),
    code: 'AUTH_FAILED',
    fatal: true,
    mentions: '401',
  },
  {
    input: 'Polygon bar with a string price',
    provider: 'polygon',
    http: () => polygonAggs([{ ...AGG, o: '10' }]),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'malformed bar',
  },
  {
    input: 'Polygon results that is not a list',
    provider: 'polygon',
    http: () => json({ status: 'OK', resultsCount: 1, results: { o: 1 } }),
    code: 'PROTOCOL',
    fatal: false,
    mentions: 'not a list',
  },
];

async function downloadFrom(venue: FakeVenue, row: RestRow, dataPath: string): Promise<string> {
  const client = new MarketDataClient({
    providerType: row.provider,
    dataPath,
    ...(row.provider === 'polygon' ? { polygonApiKey: SECRET } : {}),
    providerOptions: { restBaseUrl: venue.restUrl, maxRetries: 0, requestTimeoutMs: 2000 },
  });
  return client.download({
    ticker: row.ticker ?? (row.provider === 'binance' ? 'BTCUSDT' : 'AAPL'),
    startDate: new Date(DAY_START_MS),
    endDate: new Date(DAY_START_MS + 23 * HOUR),
    multiplier: 1,
    timespan: 'hour',
  });
}

describe('bad REST answers during a download', () => {
  it.each(restRows)('$input → $code', async (row) => {
    const venue = await fakeVenue({ http: row.http });
    const dataPath = await tempDir();
    const error = await caught(() => downloadFrom(venue, row, dataPath));
    expect(`${error.code}:${error.fatal}`).toBe(`${row.code}:${row.fatal}`);
    expect(error.message).toContain(row.mentions);
    expect(error.message).not.toMatch(/<[a-z!/]/i);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(venue.requests.length).toBeGreaterThan(0);
    expect(await listDir(dataPath)).toEqual([]);
    if (row.provider === 'polygon') {
      // The key was really sent (so not finding it below means something).
      expect(venue.requestHeaders[0]?.authorization).toBe(`Bearer ${SECRET}`);
      for (const request of venue.requests) expect(request).not.toContain(SECRET);
      expectNoSecret(error);
    }
  });

  it('Polygon bar with a negative price → PROTOCOL', async () => {
    const row: RestRow = {
      input: 'negative Polygon price',
      provider: 'polygon',
      http: () => polygonAggs([{ ...AGG, l: -9 }]),
      code: 'PROTOCOL',
      fatal: false,
      mentions: 'malformed bar',
    };
    const venue = await fakeVenue({ http: row.http });
    const dataPath = await tempDir();
    const error = await caught(() => downloadFrom(venue, row, dataPath));
    expect(error.code).toBe('PROTOCOL');
  });
});

// ---------------------------------------------------------------------------------------------
// Files: unusable output locations and a corrupt Parquet file.

const BAR: MarketData = {
  id: 'BTCUSDT-1m-1704067200000',
  symbol: 'BTCUSDT',
  time: new Date(DAY_START_MS),
  open: 100,
  high: 101,
  low: 99,
  close: 100.5,
  volume: 12,
};

describe('bad output locations', () => {
  it('a data directory under a regular file → WRITER, and nothing written', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'plain-file'), 'not a directory');
    const sim = await startSimulator({ seed: 3, speed: 1 });
    onTestFinished(() => sim.close());
    const client = new MarketDataClient({
      providerType: 'binance',
      dataPath: join(dir, 'plain-file', 'data'),
      providerOptions: { restBaseUrl: sim.binance.restUrl, maxRetries: 0 },
    });
    const error = await caught(() =>
      client.download({
        ticker: 'BTCUSDT',
        startDate: new Date('2024-03-01T00:00:00Z'),
        endDate: new Date('2024-03-01T05:00:00Z'),
        multiplier: 1,
        timespan: 'hour',
      }),
    );
    expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
    expect(error.message).toContain('plain-file');
    expect(await listDir(dir)).toEqual(['plain-file']);
  });

  it.each([
    [
      'names a regular file',
      async (dir: string) => {
        await writeFile(join(dir, 'plain-file'), 'x');
        return join(dir, 'plain-file');
      },
    ],
    ['is under /proc (recursive mkdir loops there)', async () => '/proc/argo-market-data-test/x'],
    ['is read-only (/sys)', async () => '/sys/argo-market-data-test'],
  ])('a client data directory that %s → WRITER before the first request', async (_, make) => {
    const dir = await tempDir();
    const dataPath = await make(dir);
    const before = await listDir(dir);
    const sim = await startSimulator({ seed: 3, speed: 1 });
    onTestFinished(() => sim.close());
    const client = new MarketDataClient({
      providerType: 'binance',
      dataPath,
      providerOptions: { restBaseUrl: sim.binance.restUrl, maxRetries: 0 },
    });
    const error = await caught(() =>
      client.download({
        ticker: 'BTCUSDT',
        startDate: '2024-03-01',
        endDate: '2024-03-01',
        multiplier: 1,
        timespan: 'hour',
      }),
    );
    expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
    expect(error.message).toContain(dataPath);
    expect(sim.stats.httpRequests()).toBe(0);
    expect(await listDir(dir)).toEqual(before);
  });

  it('a DuckDBWriter output path that is a directory → WRITER, no temp file left', async () => {
    const dir = await tempDir();
    const target = join(dir, 'out.parquet');
    await mkdir(target);
    const writer = new DuckDBWriter(target);
    onTestFinished(() => writer.close());
    await writer.initialize();
    await writer.write(BAR);
    const error = await caught(() => writer.finalize());
    expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
    expect(error.message).toContain(target);
    expect(await listDir(dir)).toEqual(['out.parquet']);
  });

  it('a StreamingDuckDBWriter data directory under a regular file → WRITER', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'plain-file'), 'x');
    const writer = new StreamingDuckDBWriter(join(dir, 'plain-file', 'sub'), 'binance', '1m');
    const error = await caught(() => writer.initialize());
    expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
    await writer.close();
    expect(await listDir(dir)).toEqual(['plain-file']);
  });

  it.each([
    ['truncated after the magic bytes', Buffer.from('PAR1\u0015\u0004\u0015\u0000\u0015')],
    ['empty', Buffer.alloc(0)],
    ['JSON text', Buffer.from('[{"symbol":"BTCUSDT"}]')],
  ])(
    'a %s Parquet file at initialize → WRITER; left untouched, no store left',
    async (_, bytes) => {
      const dir = await tempDir();
      const parquetPath = join(dir, 'stream_data_binance_1m.parquet');
      await writeFile(parquetPath, bytes);
      const writer = new StreamingDuckDBWriter(dir, 'binance', '1m');
      const error = await caught(() => writer.initialize());
      expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
      expect(error.message).toContain('left untouched');
      expect(error.message.split('\n')).toHaveLength(1);
      await writer.close();
      expect(await readFile(parquetPath)).toEqual(bytes);
      expect(await listDir(dir)).toEqual(['stream_data_binance_1m.parquet']);
    },
  );

  it.each([
    ['NaN open', { open: Number.NaN }],
    ['Infinity high', { high: Number.POSITIVE_INFINITY }],
    ['string close', { close: '100' as unknown as number }],
    ['invalid Date', { time: new Date('nope') }],
  ])('a bar with %s → WRITER, and no file', async (_, change) => {
    const dir = await tempDir();
    const writer = new DuckDBWriter(join(dir, 'bars.parquet'));
    onTestFinished(() => writer.close());
    await writer.initialize();
    const error = await caught(() => writer.writeBatch([BAR, { ...BAR, ...change }]));
    expect(`${error.code}:${error.fatal}`).toBe('WRITER:true');
    await writer.close();
    expect(await listDir(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket: a malformed frame is a non-fatal PROTOCOL error, and the next good bar still comes.

const T0 = Date.UTC(2024, 0, 1, 12, 0);

function klineFrame(openMs: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    e: 'kline',
    E: openMs + MINUTE,
    s: 'BTCUSDT',
    k: {
      t: openMs,
      T: openMs + MINUTE - 1,
      s: 'BTCUSDT',
      i: '1m',
      o: '100.0',
      c: '100.5',
      h: '101.0',
      l: '99.5',
      v: '12.5',
      x: true,
      ...overrides,
    },
  });
}

const binanceListing = (url: URL): FakeReply | undefined =>
  url.pathname === '/api/v3/exchangeInfo'
    ? json({ serverTime: T0, symbols: [{ symbol: 'BTCUSDT', status: 'TRADING' }] })
    : undefined;

/** Runs the stream until `count` results or a fatal error. */
async function collect(stream: AsyncIterable<StreamResult>, count: number) {
  const results: StreamResult[] = [];
  for await (const result of stream) {
    results.push(result);
    if (results.length === count || result[1]?.fatal) break;
  }
  return results;
}

function summary(results: readonly StreamResult[]): string[] {
  return results.map(([bar, err]) =>
    err
      ? `${err.code}:${err.fatal}`
      : `bar ${(bar as MarketData).time.toISOString().slice(11, 16)}`,
  );
}

const badFrames: [string, string][] = [
  ['not JSON (an HTML page)', '<html><body>502 Bad Gateway</body></html>'],
  ['truncated JSON', klineFrame(T0 + MINUTE).slice(0, 60)],
  ['a JSON string', '"kline"'],
  ['a kline event without k', JSON.stringify({ e: 'kline', E: T0, s: 'BTCUSDT' })],
  ['"o": 5 instead of a string', klineFrame(T0 + MINUTE, { o: 5 })],
  ['"t": "abc"', klineFrame(T0 + MINUTE, { t: 'abc' })],
  ['"t": 1.5 (not an integer)', klineFrame(T0 + MINUTE, { t: 1.5 })],
  ['"c": "NaN"', klineFrame(T0 + MINUTE, { c: 'NaN' })],
  ['"h": "-1"', klineFrame(T0 + MINUTE, { h: '-1' })],
  ['"l": "Infinity"', klineFrame(T0 + MINUTE, { l: 'Infinity' })],
  ['"v": "1e999"', klineFrame(T0 + MINUTE, { v: '1e999' })],
];

describe('bad WebSocket frames', () => {
  it.each(badFrames)('Binance frame %s → PROTOCOL, then the next bar', async (_, frame) => {
    const venue = await fakeVenue({
      http: binanceListing,
      frames: [klineFrame(T0), frame, klineFrame(T0 + MINUTE)],
    });
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1m',
      restBaseUrl: venue.restUrl,
      wsBaseUrl: venue.wsUrl,
      maxRetries: 0,
    });
    const results = await collect(provider.stream(), 3);
    expect(summary(results)).toEqual(['bar 12:00', 'PROTOCOL:false', 'bar 12:01']);
    expect(results[2]?.[0]?.close).toBe(100.5);
    expect(results[1]?.[1]?.message).toContain('skipped');
  });

  it('Binance symbol the exchange does not list → INVALID_SYMBOL, the stream ends', async () => {
    const venue = await fakeVenue({
      http: (url) =>
        url.pathname === '/api/v3/exchangeInfo'
          ? { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' }
          : undefined,
    });
    const provider = new BinanceProvider({
      symbols: ['NOPE123'],
      interval: '1m',
      restBaseUrl: venue.restUrl,
      wsBaseUrl: venue.wsUrl,
    });
    const results = await collect(provider.stream(), 5);
    expect(summary(results)).toEqual(['INVALID_SYMBOL:true']);
    expect(results[0]?.[1]?.message).toContain('NOPE123');
  });

  it('Polygon auth_failed that echoes the key → AUTH_FAILED, key never shown', async () => {
    const venue = await fakeVenue({
      frames: [JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected' }])],
      reply: (text) =>
        text.includes('"auth"')
          ? [
              JSON.stringify([
                {
                  ev: 'status',
                  status: 'auth_failed',
                  message: `authentication failed: ${SECRET}`,
                },
              ]),
            ]
          : [],
    });
    const provider = new PolygonProvider({
      ...POLYGON,
      restBaseUrl: venue.restUrl,
      wsBaseUrl: venue.wsUrl,
      maxRetries: 0,
    });
    const results = await collect(provider.stream(), 5);
    expect(summary(results)).toEqual(['AUTH_FAILED:true']);
    expectNoSecret(results[0]?.[1]);
  });
});

// ---------------------------------------------------------------------------------------------
// CLI: one line on stderr, exit 2 for usage mistakes and 1 for runtime failures.

interface CliRow {
  input: string;
  args: (dir: string) => string[];
  env?: NodeJS.ProcessEnv;
  exit: 1 | 2;
  mentions: string;
  /** Files that must be in the directory afterwards (the rest must not exist). */
  prepare?: (dir: string) => Promise<string[]>;
}

const stream = (...rest: string[]) => ['stream', '--provider', 'binance', ...rest];
const download = (...rest: string[]) => ['download', '--provider', 'binance', ...rest];

const cliRows: CliRow[] = [
  {
    input: '--speed -1',
    args: () => stream('--symbols', 'BTCUSDT', '--interval', '1m', '--simulate', '--speed', '-1'),
    exit: 2,
    mentions: '--speed',
  },
  {
    input: '--seed NaN',
    args: () => stream('--symbols', 'BTCUSDT', '--interval', '1m', '--simulate', '--seed', 'NaN'),
    exit: 2,
    mentions: '--seed',
  },
  {
    input: '--interval 7m',
    args: () => stream('--symbols', 'BTCUSDT', '--interval', '7m'),
    exit: 2,
    mentions: 'INVALID_INTERVAL',
  },
  {
    input: '--start 2024-13-01',
    args: (dir) =>
      download('--ticker', 'BTCUSDT', '--start', '2024-13-01', '--interval', '1h', '--data', dir),
    exit: 2,
    mentions: 'startDate',
  },
  {
    input: '--start 0001-01-01',
    args: (dir) =>
      download(
        '--ticker',
        'BTCUSDT',
        '--start',
        '0001-01-01',
        '--interval',
        '1d',
        '--simulate',
        '--data',
        dir,
      ),
    exit: 2,
    mentions: '1970',
  },
  {
    input: '--provider kraken',
    args: () => ['stream', '--provider', 'kraken', '--symbols', 'X', '--interval', '1m'],
    exit: 2,
    mentions: "'kraken'",
  },
  {
    input: 'a stream name injected into --symbols',
    args: () => stream('--symbols', 'btcusdt@kline_1m/ethusdt', '--interval', '1m'),
    exit: 2,
    mentions: 'symbols.0',
  },
  {
    input: '--ticker ../x',
    args: (dir) =>
      download('--ticker', '../x', '--start', '2024-01-01', '--interval', '1h', '--data', dir),
    exit: 2,
    mentions: 'ticker',
  },
  {
    input: 'a Polygon key with spaces',
    args: (dir) => [
      'download',
      '--provider',
      'polygon',
      '--ticker',
      'AAPL',
      '--start',
      '2024-03-04',
      '--interval',
      '1h',
      '--api-key',
      `${SECRET} x`,
      '--data',
      dir,
    ],
    exit: 2,
    mentions: 'apiKey',
  },
  {
    input: 'a wrong Polygon key (simulator rejects it)',
    args: (dir) => [
      'download',
      '--provider',
      'polygon',
      '--ticker',
      'AAPL',
      '--start',
      '2024-03-04',
      '--end',
      '2024-03-05',
      '--interval',
      '1h',
      '--simulate',
      '--verbose',
      '--data',
      dir,
    ],
    env: { POLYGON_API_KEY: SECRET },
    exit: 1,
    mentions: 'AUTH_FAILED',
  },
  {
    input: '--data under a regular file',
    prepare: async (dir) => {
      await writeFile(join(dir, 'plain-file'), 'x');
      return ['plain-file'];
    },
    args: (dir) =>
      download(
        '--ticker',
        'BTCUSDT',
        '--start',
        '2024-03-01',
        '--end',
        '2024-03-01',
        '--interval',
        '1h',
        '--simulate',
        '--data',
        join(dir, 'plain-file', 'data'),
      ),
    exit: 1,
    mentions: 'WRITER',
  },
  {
    input: '--data /proc/x (mkdir would spin for ever)',
    args: () =>
      download(
        '--ticker',
        'BTCUSDT',
        '--start',
        '2024-03-01',
        '--end',
        '2024-03-01',
        '--interval',
        '1h',
        '--simulate',
        '--data',
        '/proc/argo-market-data-test',
      ),
    exit: 1,
    mentions: 'WRITER',
  },
  {
    input: '--data naming a regular file',
    prepare: async (dir) => {
      await writeFile(join(dir, 'plain-file'), 'x');
      return ['plain-file'];
    },
    args: (dir) =>
      download(
        '--ticker',
        'BTCUSDT',
        '--start',
        '2024-03-01',
        '--end',
        '2024-03-01',
        '--interval',
        '1h',
        '--simulate',
        '--data',
        join(dir, 'plain-file'),
      ),
    exit: 1,
    mentions: 'plain-file',
  },
  {
    input: '--out holding a corrupt Parquet file',
    prepare: async (dir) => {
      // --simulate keeps its files under simulated/ (issue 15: never the name of real data).
      await mkdir(join(dir, 'simulated'), { recursive: true });
      await writeFile(
        join(dir, 'simulated', 'stream_data_binance_1m.parquet'),
        'PAR1 but then nothing',
      );
      return [join('simulated', 'stream_data_binance_1m.parquet')];
    },
    args: (dir) => stream('--symbols', 'BTCUSDT', '--interval', '1m', '--simulate', '--out', dir),
    exit: 1,
    mentions: 'WRITER',
  },
];

describe('bad CLI input', () => {
  it.each(cliRows)('$input → exit $exit', async (row) => {
    const dir = await tempDir();
    const expectedFiles = (await row.prepare?.(dir)) ?? [];
    const before = await Promise.all(expectedFiles.map((f) => readFile(join(dir, f))));
    const result = await runCli(row.args(dir), row.env ?? {});
    expect(result.signal).toBeNull();
    expect(result.code).toBe(row.exit);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((line) => line.length > 0);
    // Progress, status and commander's help hint may precede or follow; the error is one line.
    const errorLines = lines.filter(
      (line) => !/^(\(run with --help|progress |status: )/.test(line),
    );
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error/);
    expect(errorLines[0]).toContain(row.mentions);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
    // Directories holding an expected file (e.g. simulated/) are listed too.
    const dirs = expectedFiles.map((f) => dirname(f)).filter((d) => d !== '.');
    expect(await listDir(dir)).toEqual([...new Set([...dirs, ...expectedFiles])].sort());
    const after = await Promise.all(expectedFiles.map((f) => readFile(join(dir, f))));
    expect(after).toEqual(before);
  });
});
