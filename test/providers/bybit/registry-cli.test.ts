import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitProvider } from '../../../src/index.js';
import {
  createProvider,
  getDownloadConfigSchema,
  getProviderInfo,
  getStreamConfigSchema,
  parseStreamConfig,
} from '../../../src/registry.js';
import { readParquetBars } from '../../../src/writers/parquet-reader.js';
import { runCli, spawnCli, untilLines } from '../../helpers/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-bybit-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('bybit in the registry', () => {
  it('creates a BybitProvider from an untrusted config and publishes its JSON Schema', () => {
    expect(getProviderInfo('bybit')).toMatchObject({ name: 'bybit', requiresAuth: false });
    const provider = createProvider('bybit', '{"symbols":["btcusdt"],"interval":"1h"}');
    expect(provider).toBeInstanceOf(BybitProvider);
    expect(provider.getSymbols()).toEqual(['BTCUSDT']);
    const stream = JSON.parse(getStreamConfigSchema('bybit'));
    expect(stream.properties.interval.enum).toEqual([
      ...['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d', '1w', '1M'],
    ]);
    expect(JSON.parse(getDownloadConfigSchema('bybit')).required).toContain('startDate');
  });

  it('refuses an interval Bybit lacks with INVALID_INTERVAL', () => {
    expect(() => parseStreamConfig('bybit', { symbols: ['BTCUSDT'], interval: '8h' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INTERVAL', field: 'interval' }),
    );
  });
});

describe('argo-market --provider bybit --simulate', () => {
  it('downloads whole UTC days into the named Parquet file', async () => {
    const result = await runCli([
      ...['download', '--provider', 'bybit', '--ticker', 'BTCUSDT'],
      ...['--start', '2024-03-01', '--end', '2024-03-02', '--interval', '1h'],
      ...['--data', dir, '--simulate'],
    ]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const path = join(dir, 'simulated', 'BTCUSDT_2024-03-01_2024-03-02_1_hour.parquet');
    expect(result.stdout.trim()).toBe(path);
    expect(result.stderr).toMatch(/progress 48\/48 bars/);
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(48);
    expect(bars[0]?.time.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(bars.at(-1)?.time.toISOString()).toBe('2024-03-02T23:00:00.000Z');
  });

  it('streams closed bars and stops on Ctrl-C', async () => {
    const child = spawnCli([
      ...['stream', '--provider', 'bybit', '--symbols', 'BTCUSDT,ETHUSDT', '--interval', '1m'],
      ...['--simulate', '--speed', '600'],
    ]);
    const lines = await untilLines(child, 4);
    for (const line of lines)
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z (BTC|ETH)USDT: O=/);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
  });

  it('streams from `argo-market simulate` through --bybit-url', async () => {
    const sim = spawnCli(['simulate', '--speed', '600']);
    const printed = await untilLines(sim, 7);
    const bybitUrl =
      printed
        .find((l) => l.startsWith('bybit REST'))
        ?.split(/\s+/)
        .at(-1) ?? '';
    expect(bybitUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const child = spawnCli([
      ...['stream', '--provider', 'bybit', '--bybit-url', bybitUrl],
      ...['--symbols', 'BTCUSDT', '--interval', '1m'],
    ]);
    const lines = await untilLines(child, 2);
    for (const line of lines) expect(line).toMatch(/ BTCUSDT: O=/);
    child.kill('SIGINT');
    expect((await once(child, 'close'))[0]).toBe(0);
    sim.kill('SIGINT');
    expect((await once(sim, 'close'))[0]).toBe(0);
  });

  it('exits 2 naming the intervals for --interval 1s', async () => {
    const result = await runCli([
      ...[
        'stream',
        '--provider',
        'bybit',
        '--symbols',
        'BTCUSDT',
        '--interval',
        '1s',
        '--simulate',
      ],
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('1m, 3m, 5m');
  });
});
