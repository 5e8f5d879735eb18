import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { runCli, spawnCli, untilLines } from '../helpers/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BAR_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [A-Z0-9.]+: O=\d+\.\d+ H=\d+\.\d+ L=\d+\.\d+ C=\d+\.\d+ V=\d+(\.\d+)?$/;

describe('argo-market', () => {
  it('lists providers as a table', async () => {
    const result = await runCli(['providers']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+DISPLAY NAME\s+KEY\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^binance\s+Binance Spot\s+no\s/);
    expect(lines[2]).toMatch(/^polygon\s+Polygon.io \(Massive\)\s+yes\s/);
  });

  it('prints the JSON Schema of stream and download configs', async () => {
    const stream = await runCli(['schema', 'polygon']);
    expect(stream.code).toBe(0);
    expect(JSON.parse(stream.stdout).properties.apiKey.keychain).toBe(true);
    const download = await runCli(['schema', 'binance', '--download']);
    expect(JSON.parse(download.stdout).required).toContain('startDate');
  });

  it.each([
    [['schema', 'kraken'], "unknown provider 'kraken'"],
    [['stream', '--provider', 'kraken', '--symbols', 'X', '--interval', '1m'], "'kraken'"],
    [['stream', '--provider', 'binance', '--symbols', 'BTCUSDT', '--interval', '7m'], 'interval'],
    [['stream', '--provider', 'binance', '--symbols', 'btc/usdt', '--interval', '1m'], 'symbols.0'],
    [
      [
        'download',
        '--provider',
        'binance',
        '--ticker',
        'BTCUSDT',
        '--start',
        '2024-02-30',
        '--interval',
        '1m',
      ],
      'startDate',
    ],
    [
      [
        'download',
        '--provider',
        'binance',
        '--ticker',
        'BTCUSDT',
        '--start',
        '2024-01-05',
        '--end',
        '2024-01-01',
        '--interval',
        '1m',
      ],
      'endDate',
    ],
    [
      ['stream', '--provider', 'polygon', '--symbols', 'AAPL', '--interval', '1m'],
      'POLYGON_API_KEY',
    ],
    [['stream', '--provider', 'binance', '--interval', '1m'], '--symbols'],
    [['providers', '--nope'], '--nope'],
    [['frobnicate'], 'frobnicate'],
  ])('exits 2 with one clear line for %j', async (args, mentions) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(mentions);
    expect(result.stdout).toBe('');
  });

  it('downloads from the embedded simulator into the named Parquet file', async () => {
    const result = await runCli([
      'download',
      '--provider',
      'binance',
      '--ticker',
      'BTCUSDT',
      '--start',
      '2024-03-01',
      '--end',
      '2024-03-02',
      '--interval',
      '1h',
      '--data',
      dir,
      '--simulate',
    ]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    // Simulated data lands under simulated/, never under the name real data would take.
    const path = join(dir, 'simulated', 'BTCUSDT_2024-03-01_2024-03-02_1_hour.parquet');
    expect(result.stdout.trim()).toBe(path);
    expect(result.stderr).toMatch(/progress 48\/48 bars/);
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(48);
    expect(bars[0]?.time.toISOString()).toBe('2024-03-01T00:00:00.000Z');
  });

  it('downloads Polygon bars with the simulator key', async () => {
    const args = ['download', '--provider', 'polygon', '--ticker', 'AAPL', '--start', '2024-03-04'];
    const result = await runCli([
      ...args,
      '--end',
      '2024-03-05',
      '--interval',
      '1h',
      '--data',
      dir,
      '--simulate',
    ]);
    expect(result.code).toBe(0);
    const path = join(dir, 'simulated', 'AAPL_2024-03-04_2024-03-05_1_hour.parquet');
    expect(result.stdout.trim()).toBe(path);
    expect((await readParquetBars(path)).length).toBeGreaterThan(10);
  });

  it('fails a rejected key with exit 1 and never prints the key', async () => {
    const key = 'wrong-key-7f3a9c';
    const args = ['download', '--provider', 'polygon', '--ticker', 'AAPL', '--start', '2024-03-04'];
    const result = await runCli(
      [...args, '--interval', '1h', '--data', dir, '--simulate', '--verbose'],
      { POLYGON_API_KEY: key },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('AUTH_FAILED');
    expect(`${result.stdout}${result.stderr}`).not.toContain(key);
    const simulated = join(dir, 'simulated');
    expect((await readdir(simulated)).filter((f) => f.startsWith('AAPL_2024-03-04_20'))).toEqual([
      'AAPL_2024-03-04_2024-03-05_1_hour.parquet',
    ]);
  });

  it('streams closed bars in the seed format and as JSON lines', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT,ETHUSDT',
      '--interval',
      '1s',
      '--simulate',
      '--speed',
      '20',
    ]);
    const lines = await untilLines(child, 4);
    for (const line of lines) expect(line).toMatch(BAR_LINE);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);

    const jsonChild = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--symbols',
      'BNBBTC',
      '--interval',
      '1s',
      '--json',
      '--simulate',
      '--speed',
      '20',
    ]);
    const jsonLines = await untilLines(jsonChild, 2);
    for (const line of jsonLines) {
      const bar = JSON.parse(line);
      expect(bar).toMatchObject({ symbol: 'BNBBTC' });
      expect(typeof bar.open).toBe('number');
      expect(new Date(bar.time).getTime() % 1000).toBe(0);
    }
    jsonChild.kill('SIGTERM');
    const [jsonCode] = await once(jsonChild, 'close');
    expect(jsonCode).toBe(0);
  });

  it('stops on Ctrl-C with sockets closed and the --out file finalized', async () => {
    const out = join(dir, 'stream-out');
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT',
      '--interval',
      '1s',
      '--out',
      out,
      '--simulate',
      '--speed',
      '20',
    ]);
    const lines = await untilLines(child, 3);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(await readdir(join(out, 'simulated'))).toContain('stream_data_binance_1s.parquet');
    const stored = await readParquetBars(join(out, 'simulated', 'stream_data_binance_1s.parquet'));
    expect(stored.length).toBeGreaterThanOrEqual(lines.length);
  });

  it('runs the simulator until Ctrl-C, printing URLs that answer', async () => {
    const child = spawnCli(['simulate', '--speed', '60', '--seed', '3']);
    const lines = await untilLines(child, 5);
    const restUrl =
      lines
        .find((l) => l.startsWith('binance REST'))
        ?.split(/\s+/)
        .at(-1) ?? '';
    expect(restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.find((l) => l.startsWith('polygon key'))).toMatch(/^polygon key\s+\S{8,}$/);
    const ping = await fetch(`${restUrl}/api/v3/ping`);
    expect(await ping.json()).toEqual({});
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
  });
});
