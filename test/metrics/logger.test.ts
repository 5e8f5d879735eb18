import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { registerSecret } from '../../src/core/errors.js';
import { jsonStderr, logFormatOf, parseLogLine, venueOf } from '../../src/metrics/logger.js';

describe('--log-format json lines', () => {
  it('reads status, coded warnings and errors, retries and other lines into fields', () => {
    expect(
      parseLogLine('status: reconnecting binance:btcusdt@kline_1m [BTCUSDT] attempt 2'),
    ).toEqual({
      level: 'warn',
      event: 'status',
      status: 'reconnecting',
      connection: 'binance:btcusdt@kline_1m',
      msg: 'status: reconnecting binance:btcusdt@kline_1m [BTCUSDT] attempt 2',
    });
    expect(parseLogLine('warning [RATE_LIMITED]: slow down')).toMatchObject({
      level: 'warn',
      event: 'warning',
      code: 'RATE_LIMITED',
    });
    expect(parseLogLine('error [AUTH_FAILED]: bad key')).toMatchObject({
      level: 'error',
      code: 'AUTH_FAILED',
    });
    expect(parseLogLine('error: --interval is required')).toMatchObject({ level: 'error' });
    expect(parseLogLine('retry 1/5 of a Binance request in 0.5 s')).toMatchObject({
      level: 'warn',
      event: 'retry',
    });
    expect(parseLogLine('received SIGINT, stopping…').event).toBe('stopping');
    expect(parseLogLine('saved data/x.parquet').event).toBe('saved');
  });

  it('one JSON object per line, partial writes joined, credentials redacted', async () => {
    const secret = 'Log-secret-key-98765';
    registerSecret(secret);
    const target = new PassThrough();
    let out = '';
    target.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const stderr = jsonStderr(target, { venue: 'polygon' });
    stderr.write('warning [NETWORK]: cannot reach nats://argo:pa55word@h1:4222');
    stderr.write(` with key ${secret}\nstatus: connected polygon:stocks\n`);
    await new Promise<void>((resolve) => stderr.end(resolve));
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [warning, status] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warning).toMatchObject({ level: 'warn', venue: 'polygon', code: 'NETWORK' });
    expect(status).toMatchObject({ event: 'status', connection: 'polygon:stocks' });
    expect(out).not.toContain('pa55word');
    expect(out).not.toContain(secret);
  });

  it('finds --log-format and the venue in raw argv', () => {
    expect(logFormatOf(['stream', '--log-format', 'json'])).toBe('json');
    expect(logFormatOf(['store', '--log-format=json'])).toBe('json');
    expect(logFormatOf(['stream'])).toBeUndefined();
    expect(venueOf(['stream', '--provider', 'jetstream', '--venue', 'binance'])).toBe('binance');
    expect(venueOf(['stream', '--provider=polygon'])).toBe('polygon');
  });
});
