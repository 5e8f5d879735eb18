import { describe, expect, it } from 'vitest';
import { ConfigError, MarketDataError } from '../../src/core/errors.js';
import {
  getDownloadConfigSchema,
  getDownloadKeychainFields,
  getProviderInfo,
  getStreamConfigSchema,
  getStreamKeychainFields,
  getSupportedProviders,
  parseDownloadConfig,
  parseStreamConfig,
} from '../../src/registry.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('registry', () => {
  it('lists providers with their info', () => {
    expect(getSupportedProviders()).toEqual(['binance', 'polygon', 'jetstream', 'bybit', 'okx']);
    expect(getProviderInfo('jetstream')).toMatchObject({ name: 'jetstream', requiresAuth: false });
    expect(getStreamKeychainFields('jetstream')).toEqual(['token']);
    expect(getProviderInfo('polygon')).toMatchObject({ name: 'polygon', requiresAuth: true });
    expect(getProviderInfo('binance').requiresAuth).toBe(false);
  });

  it('rejects an unknown provider everywhere, naming the choices', () => {
    for (const fn of [
      () => getProviderInfo('kraken'),
      () => getStreamConfigSchema('kraken'),
      () => parseStreamConfig('kraken', {}),
      () => getDownloadKeychainFields('__proto__'),
    ]) {
      const error = configError(fn);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.field).toBe('provider');
      expect(error.message).toContain('binance, polygon');
    }
  });

  it('generates JSON Schema from the zod schemas, with keychain fields marked', () => {
    const stream = JSON.parse(getStreamConfigSchema('polygon'));
    expect(stream.properties.apiKey).toMatchObject({ type: 'string', keychain: true });
    expect(stream.required).toEqual(expect.arrayContaining(['symbols', 'interval', 'apiKey']));
    expect(stream.properties.interval.enum).toContain('1M');
    const download = JSON.parse(getDownloadConfigSchema('binance'));
    expect(Object.keys(download.properties).sort()).toEqual([
      'endDate',
      'interval',
      'startDate',
      'ticker',
    ]);
    expect(getStreamKeychainFields('polygon')).toEqual(['apiKey']);
    expect(getDownloadKeychainFields('polygon')).toEqual(['apiKey']);
    expect(getStreamKeychainFields('binance')).toEqual([]);
  });
});

describe('stream config', () => {
  it('applies defaults, folds case and duplicates', () => {
    const config = parseStreamConfig('binance', {
      symbols: ['btcusdt', 'BTCUSDT', 'EthUsdt'],
      interval: '1m',
    });
    expect(config.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(config.connection).toBe('per-symbol');
    expect(config.reconnectMaxDelayMs).toBe(30_000);
    expect(config.maxReconnectAttempts).toBeUndefined();
  });

  it('accepts JSON text', () => {
    const config = parseStreamConfig(
      'polygon',
      '{"symbols":["AAPL","BRK.A"],"interval":"5m","apiKey":"k3y"}',
    );
    expect(config.symbols).toEqual(['AAPL', 'BRK.A']);
    expect(config.feed).toBe('realtime');
  });

  it.each([
    ['btcusdt@kline_1m/ethusdt'],
    ['../x'],
    ['BTC USDT'],
    [''],
    ['BTCUSDT?x=1'],
    ['a'.repeat(21)],
  ])('rejects the smuggling symbol %j, naming the field', (symbol) => {
    const error = configError(() =>
      parseStreamConfig('binance', { symbols: ['BTCUSDT', symbol], interval: '1m' }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe('symbols.1');
  });

  it.each([
    [{ symbols: [], interval: '1m' }, 'symbols', 'CONFIG_INVALID'],
    [{ symbols: 'BTCUSDT', interval: '1m' }, 'symbols', 'CONFIG_INVALID'],
    [{ symbols: ['BTCUSDT'], interval: '7m' }, 'interval', 'INVALID_INTERVAL'],
    [{ symbols: ['BTCUSDT'] }, 'interval', 'INVALID_INTERVAL'],
    [
      { symbols: ['BTCUSDT'], interval: '1m', connection: 'pooled' },
      'connection',
      'CONFIG_INVALID',
    ],
    [
      { symbols: ['BTCUSDT'], interval: '1m', wsBaseUrl: 'http://x' },
      'wsBaseUrl',
      'CONFIG_INVALID',
    ],
    [{ symbols: ['BTCUSDT'], interval: '1m', bogus: 1 }, '(root)', 'CONFIG_INVALID'],
    [{ symbols: ['BTCUSDT'], interval: '1m', bufferSize: -1 }, 'bufferSize', 'CONFIG_INVALID'],
  ] as const)('rejects bad binance input %j', (input, field, code) => {
    const error = configError(() => parseStreamConfig('binance', input));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message).toContain(field === '(root)' ? 'bogus' : field);
  });

  it('requires a Polygon key and says how to give it', () => {
    for (const apiKey of [undefined, '']) {
      const error = configError(() =>
        parseStreamConfig('polygon', { symbols: ['AAPL'], interval: '1m', apiKey }),
      );
      expect(error.field).toBe('apiKey');
      expect(error.message).toContain('POLYGON_API_KEY');
    }
  });

  it('rejects lower-case Polygon tickers (they are case-sensitive) and wildcards', () => {
    for (const symbol of ['aapl', '*', 'AM.AAPL,AM.MSFT']) {
      const error = configError(() =>
        parseStreamConfig('polygon', { symbols: [symbol], interval: '1m', apiKey: 'k' }),
      );
      expect(error.field).toBe('symbols.0');
    }
  });

  it('rejects a config that is not JSON', () => {
    const error = configError(() => parseStreamConfig('binance', '{symbols:'));
    expect(error.message).toContain('not valid JSON');
  });
});

describe('download config', () => {
  it('parses dates as YYYY-MM-DD (UTC midnight) or RFC 3339', () => {
    const config = parseDownloadConfig('binance', {
      ticker: 'btcusdt',
      startDate: '2024-01-02',
      endDate: '2024-01-03T12:30:00+02:00',
      interval: '1h',
    });
    expect(config.ticker).toBe('BTCUSDT');
    expect(config.startDate.toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(config.endDate.toISOString()).toBe('2024-01-03T10:30:00.000Z');
  });

  it.each([
    [{ startDate: '2024-13-01' }, 'startDate'],
    [{ startDate: '2024-02-30' }, 'startDate'],
    [{ startDate: 'yesterday' }, 'startDate'],
    [{ endDate: '2023-12-31' }, 'endDate'],
    [{ ticker: 'BTC/USDT' }, 'ticker'],
    [{ interval: '2w' }, 'interval'],
  ])('rejects %j naming the field', (patch, field) => {
    const error = configError(() =>
      parseDownloadConfig('binance', {
        ticker: 'BTCUSDT',
        startDate: '2024-01-01',
        endDate: '2024-01-02',
        interval: '1m',
        ...patch,
      }),
    );
    expect(error.field).toBe(field);
    expect(error).toBeInstanceOf(MarketDataError);
    expect(error.fatal).toBe(true);
  });

  it('requires the Polygon key for downloads too', () => {
    const error = configError(() =>
      parseDownloadConfig('polygon', {
        ticker: 'AAPL',
        startDate: '2024-01-01',
        endDate: '2024-01-02',
        interval: '1m',
      }),
    );
    expect(error.field).toBe('apiKey');
  });
});
