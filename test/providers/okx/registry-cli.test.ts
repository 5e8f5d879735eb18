import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createProvider,
  getDownloadConfigSchema,
  getProviderInfo,
  getStreamConfigSchema,
  OkxProvider,
  parseDownloadConfig,
  parseStreamConfig,
} from '../../../src/index.js';
import { readParquetBars } from '../../../src/writers/parquet-reader.js';
import { runCli, spawnCli, stopCli, untilLines } from '../../helpers/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-okx-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('registry: okx', () => {
  it('builds an OkxProvider from an untrusted config; ids are folded to upper case', () => {
    expect(getProviderInfo('okx')).toMatchObject({ name: 'okx', requiresAuth: false });
    const provider = createProvider('okx', '{"symbols":["btc-usdt","BTC-USDT"],"interval":"1d"}');
    expect(provider).toBeInstanceOf(OkxProvider);
    expect(provider.getSymbols()).toEqual(['BTC-USDT']);
    expect(parseStreamConfig('okx', { symbols: ['ETH-BTC'], interval: '1m' })).toMatchObject({
      demo: false,
      pingIntervalMs: 20_000,
    });
  });

  it('refuses what OKX cannot serve: 8h (INVALID_INTERVAL), ids without a dash, pings ≥ 30 s', () => {
    const bad = (config: unknown): ConfigError => {
      try {
        createProvider('okx', config);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const eight = bad({ symbols: ['BTC-USDT'], interval: '8h' });
    expect(eight.code).toBe('INVALID_INTERVAL');
    expect(eight.message).toContain('OKX has no "8h" bars; it has 1s, 1m, 3m');
    expect(bad({ symbols: ['BTCUSDT'], interval: '1m' }).field).toBe('symbols.0');
    expect(bad({ symbols: ['BTC-USDT/../x'], interval: '1m' }).code).toBe('CONFIG_INVALID');
    expect(bad({ symbols: ['BTC-USDT'], interval: '1m', pingIntervalMs: 30_000 }).field).toBe(
      'pingIntervalMs',
    );
    expect(() =>
      parseDownloadConfig('okx', {
        ticker: 'BTC-USDT',
        startDate: '2024-01-01',
        endDate: '2024-01-02',
        interval: '8h',
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INTERVAL' }));
  });

  it('publishes JSON Schemas whose interval enum lacks 8h', () => {
    const stream = JSON.parse(getStreamConfigSchema('okx'));
    expect(stream.properties.interval.enum).toContain('1M');
    expect(stream.properties.interval.enum).not.toContain('8h');
    expect(stream.properties.demo.type).toBe('boolean');
    const download = JSON.parse(getDownloadConfigSchema('okx'));
    expect(download.required).toEqual(expect.arrayContaining(['ticker', 'startDate', 'endDate']));
  });
});

describe('argo-market --provider okx --simulate', () => {
  it('downloads whole UTC days into a Parquet file under simulated/', async () => {
    const result = await runCli(
      [
        'download',
        '--provider',
        'okx',
        '--simulate',
        '--symbols',
        'BTC-USDT',
        '--start',
        '2024-03-01',
        '--end',
        '2024-03-02',
        '--interval',
        '1h',
        '--data',
        dir,
      ],
      {},
      30_000,
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const path = join(dir, 'simulated', 'BTC-USDT_2024-03-01_2024-03-02_1_hour.parquet');
    expect(result.stdout.trim()).toBe(path);
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(48);
    expect(bars[0]?.time.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(bars.at(-1)?.time.toISOString()).toBe('2024-03-02T23:00:00.000Z');
  });

  it('streams closed bars with the tick size OKX quotes, and exits 0 on SIGINT', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'okx',
      '--simulate',
      '--speed',
      '600',
      '--symbols',
      'BTC-USDT,ETH-BTC',
      '--interval',
      '1m',
    ]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = await untilLines(child, 4, 15_000);
    expect(await stopCli(child, 'SIGINT')).toBe(0);
    for (const line of lines) expect(line).toMatch(/Z (BTC-USDT|ETH-BTC): O=\d+\.\d+ /);
    expect(stderr).toMatch(/connected/);
  });
});
