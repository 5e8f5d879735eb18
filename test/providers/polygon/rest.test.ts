import { describe, expect, it } from 'vitest';
import { RestScheduler } from '../../../src/http/rest-scheduler.js';
import { planWindows } from '../../../src/providers/polygon/download.js';
import {
  onPolygonRateLimited,
  PolygonRest,
  parseAggsResponse,
  readPolygonErrorBody,
} from '../../../src/providers/polygon/rest.js';

const DAY = 86_400_000;

describe('planWindows', () => {
  it('keeps day bars in one window', () => {
    expect(planWindows(1, 'day', 0, 400 * DAY)).toHaveLength(1);
  });

  it('splits minute ranges on bar boundaries and keeps each bar in exactly one window', () => {
    const fromMs = Date.UTC(2024, 0, 1, 3, 7);
    const toMs = fromMs + 75 * DAY;
    const windows = planWindows(5, 'minute', fromMs, toMs);
    expect(windows).toHaveLength(3);
    expect(windows[0]?.fromMs).toBe(fromMs);
    expect(windows[2]?.toMs).toBe(toMs);
    for (let i = 1; i < windows.length; i += 1) {
      expect(windows[i]?.keepFromMs).toBe(windows[i - 1]?.keepBeforeMs);
      expect((windows[i]?.keepFromMs ?? 1) % 300_000).toBe(0);
    }
    expect(windows[0]?.keepFromMs).toBe(Number.NEGATIVE_INFINITY);
    expect(windows[2]?.keepBeforeMs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('aggregates responses', () => {
  const url = new URL('http://127.0.0.1/v2/aggs/ticker/AAPL/range/1/day/1/2');

  it('reads results and next_url; missing results means no bars', () => {
    const page = parseAggsResponse(
      {
        ticker: 'AAPL',
        status: 'OK',
        results: [
          {
            v: 642646396.0,
            vw: 1.469,
            o: 1.5032,
            c: 1.4604,
            h: 1.5064,
            l: 1.4489,
            t: 1112331600000,
            n: 82132,
          },
        ],
        next_url:
          'https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGltaXQ9MiZzb3J0PWFzYw',
      },
      'AAPL',
      url,
    );
    // Day bars start at New York midnight: the time is kept as sent.
    expect(page.bars[0]?.time.toISOString()).toBe('2005-04-01T05:00:00.000Z');
    expect(page.nextUrl).toContain('cursor=');
    expect(parseAggsResponse({ status: 'OK', resultsCount: 0 }, 'AAPL', url)).toEqual({
      bars: [],
      nextUrl: undefined,
    });
  });

  it('rejects malformed bars as PROTOCOL', () => {
    expect(() => parseAggsResponse({ results: [{ o: '1' }] }, 'AAPL', url)).toThrow(
      /malformed bar/,
    );
  });

  it('reads `error` or `message` from error bodies, with what to do', () => {
    const read = readPolygonErrorBody('delayed');
    expect(read(401, '{"status":"ERROR","error":"Unknown API Key"}')?.message).toMatch(
      /^Unknown API Key; check the key/,
    );
    expect(
      read(403, '{"status":"NOT_AUTHORIZED","message":"You are not entitled"}')?.message,
    ).toMatch(/^You are not entitled; your plan .* delayed feed/);
    expect(read(500, '')?.message).toBe('empty body');
  });

  it('holds every request of the host back after a 429 and spaces them out without Retry-After', () => {
    const scheduler = new RestScheduler({ windows: [] });
    expect(scheduler.pauseState().remainingMs).toBe(0);
    onPolygonRateLimited(scheduler, 1000);
    expect(scheduler.pauseState().remainingMs).toBeGreaterThan(900);
    expect(scheduler.pacingMs()).toBe(0);
    onPolygonRateLimited(scheduler, undefined); // free tier: one slot per 12 s for a window
    expect(scheduler.pauseState().remainingMs).toBeGreaterThan(11_000);
    expect(scheduler.pacingMs()).toBe(12_000);
  });

  it('builds the aggregates URL without the key', () => {
    const rest = new PolygonRest({
      restBaseUrl: 'https://api.polygon.io/',
      apiKey: 'SECRETKEY',
      feed: 'realtime',
      requestTimeoutMs: 1000,
      maxRetries: 0,
    });
    const built = rest.aggsUrl('BRK.A', 5, 'minute', 1000, 2000).href;
    expect(built).toBe(
      'https://api.polygon.io/v2/aggs/ticker/BRK.A/range/5/minute/1000/2000?adjusted=true&sort=asc&limit=50000',
    );
    expect(built).not.toContain('SECRETKEY');
  });
});
