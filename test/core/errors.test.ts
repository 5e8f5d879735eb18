import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ERROR_CODES,
  MarketDataError,
  redactSecrets,
  redactUrl,
  registerSecret,
  toMarketDataError,
} from '../../src/core/errors.js';

describe('MarketDataError', () => {
  it('carries a stable code, fatal and cause', () => {
    const cause = new Error('socket hang up');
    const error = new MarketDataError('NETWORK', 'GET /api/v3/klines failed; retrying', {
      fatal: false,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MarketDataError');
    expect(error.code).toBe('NETWORK');
    expect(error.fatal).toBe(false);
    expect(error.cause).toBe(cause);
  });

  it('has every code the contract names', () => {
    expect(ERROR_CODES).toEqual(
      expect.arrayContaining([
        'CONFIG_INVALID',
        'INVALID_SYMBOL',
        'INVALID_INTERVAL',
        'AUTH_FAILED',
        'RATE_LIMITED',
        'IP_BANNED',
        'NETWORK',
        'HTTP',
        'PROTOCOL',
        'DISCONNECTED',
        'RECONNECT_EXHAUSTED',
        'WRITER',
        'WRITER_NOT_CONFIGURED',
        'ABORTED',
      ]),
    );
  });

  it('is recognised across copies of the package by its brand', () => {
    const foreign = Object.assign(Object.create(Error.prototype), {
      [Symbol.for('argo-market-data.MarketDataError')]: true,
      code: 'HTTP',
    });
    expect(MarketDataError.is(foreign)).toBe(true);
    expect(foreign instanceof MarketDataError).toBe(true);
    expect(new Error('x') instanceof MarketDataError).toBe(false);
    expect(new ConfigError('symbols', 'bad') instanceof MarketDataError).toBe(true);
  });

  it('wraps foreign errors once', () => {
    const wrapped = toMarketDataError(new TypeError('fetch failed'), 'NETWORK', 'GET /x');
    expect(wrapped.code).toBe('NETWORK');
    expect(wrapped.message).toBe('GET /x: fetch failed');
    expect(toMarketDataError(wrapped, 'HTTP', 'again')).toBe(wrapped);
  });
});

describe('redaction', () => {
  it('removes apiKey query values and Bearer tokens', () => {
    expect(
      redactUrl('https://api.polygon.io/v2/aggs/x?adjusted=true&apiKey=SeCrEt123&sort=asc'),
    ).toBe('https://api.polygon.io/v2/aggs/x?adjusted=true&apiKey=***&sort=asc');
    expect(redactSecrets('Authorization: Bearer abc.def-123')).toBe('Authorization: Bearer ***');
  });

  it('removes registered secrets anywhere, including from error messages', () => {
    registerSecret('pk_live_5ecret');
    expect(redactSecrets('auth with pk_live_5ecret failed')).toBe('auth with *** failed');
    const error = new MarketDataError('AUTH_FAILED', 'key pk_live_5ecret rejected', {
      fatal: true,
    });
    expect(error.message).not.toContain('pk_live_5ecret');
  });
});
