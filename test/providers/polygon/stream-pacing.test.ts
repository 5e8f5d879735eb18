import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../src/http/pacer.js';
import { RestScheduler } from '../../../src/http/rest-scheduler.js';
import {
  RATE_LIMIT_FALLBACK_WAIT_MS,
  RATE_LIMIT_WINDOW_MS,
} from '../../../src/providers/polygon/protocol.js';
import { onPolygonRateLimited, PolygonRest } from '../../../src/providers/polygon/rest.js';
import { sim } from './stream-helpers.js';

const TUESDAY_1002_ET = Date.UTC(2024, 2, 5, 15, 2, 30);

/**
 * What the host's scheduler does after Polygon's 429 without Retry-After, as data: nothing
 * before the pause ends, then starts one pacer slot apart. Returns each start's delay.
 */
function starts(pacer: Pacer, nowMs: number, pausedUntilMs: number, count: number): number[] {
  return Array.from({ length: count }, () => {
    let atMs = Math.max(nowMs, pausedUntilMs);
    atMs += pacer.waitMs(atMs);
    pacer.started(atMs);
    return atMs - nowMs;
  });
}

describe('Polygon 429 pacing recovers (issue 14.4)', () => {
  it('spaces requests one free-tier slot apart after a 429 without Retry-After, then returns to full speed once a window passes without one', () => {
    const pacer = new Pacer();
    const t0 = 1_000_000;
    pacer.pace(RATE_LIMIT_FALLBACK_WAIT_MS, RATE_LIMIT_WINDOW_MS, t0);
    // The refused request and the next ones wait their slots inside the window.
    expect(starts(pacer, t0, t0 + RATE_LIMIT_FALLBACK_WAIT_MS, 2)).toEqual([
      RATE_LIMIT_FALLBACK_WAIT_MS,
      2 * RATE_LIMIT_FALLBACK_WAIT_MS,
    ]);
    expect(pacer.spacingMs(t0 + RATE_LIMIT_WINDOW_MS - 1)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
    // A window without a 429: back to full speed, for good.
    const later = t0 + RATE_LIMIT_WINDOW_MS + 5 * RATE_LIMIT_FALLBACK_WAIT_MS;
    expect(pacer.spacingMs(later)).toBe(0);
    expect(starts(pacer, later, 0, 3)).toEqual([0, 0, 0]);
    expect(starts(pacer, later + 3_600_000, 0, 1)).toEqual([0]);
  });

  it('a new 429 within or after recovery starts a new paced window', () => {
    const pacer = new Pacer();
    pacer.pace(RATE_LIMIT_FALLBACK_WAIT_MS, RATE_LIMIT_WINDOW_MS, 0);
    const later = 10 * RATE_LIMIT_WINDOW_MS;
    expect(starts(pacer, later, 0, 1)).toEqual([0]);
    pacer.pace(RATE_LIMIT_FALLBACK_WAIT_MS, RATE_LIMIT_WINDOW_MS, later);
    expect(starts(pacer, later, later + RATE_LIMIT_FALLBACK_WAIT_MS, 1)).toEqual([
      RATE_LIMIT_FALLBACK_WAIT_MS,
    ]);
    expect(pacer.spacingMs(later + 1)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
  });

  it('slots reserved inside the window never push requests past it', () => {
    const pacer = new Pacer();
    pacer.pace(RATE_LIMIT_FALLBACK_WAIT_MS, RATE_LIMIT_WINDOW_MS, 0);
    const delays = starts(pacer, 0, RATE_LIMIT_FALLBACK_WAIT_MS, 20);
    // Five free-tier slots fit in a minute; everything after the window starts with it.
    expect(Math.max(...delays)).toBeLessThanOrEqual(RATE_LIMIT_WINDOW_MS);
    expect(delays.filter((d) => d === RATE_LIMIT_WINDOW_MS).length).toBeGreaterThan(10);
  });

  it("is applied to the host's shared scheduler: a pause, and pacing only without Retry-After", () => {
    const scheduler = new RestScheduler({ windows: [] });
    onPolygonRateLimited(scheduler, 1000);
    expect(scheduler.pauseState().reason).toBe('rate-limited');
    expect(scheduler.pauseState().remainingMs).toBeLessThanOrEqual(1000);
    expect(scheduler.pacingMs()).toBe(0);
    onPolygonRateLimited(scheduler, undefined);
    expect(scheduler.pauseState().remainingMs).toBeGreaterThan(1000);
    expect(scheduler.pauseState().remainingMs).toBeLessThanOrEqual(RATE_LIMIT_FALLBACK_WAIT_MS);
    expect(scheduler.pacingMs()).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
    expect(scheduler.stats.rateLimited).toBe(2);
  });

  it('the scheduler spaces its grants while paced', async () => {
    const scheduler = new RestScheduler({ windows: [], maxConcurrency: 8 });
    scheduler.pace(40, 10_000);
    const grantedAt: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        (await scheduler.acquire(1)).release(1);
        grantedAt.push(performance.now());
      }),
    );
    grantedAt.sort((a, b) => a - b);
    // Timers never fire early; allow a millisecond of rounding in performance.now().
    for (let i = 1; i < grantedAt.length; i++) {
      expect((grantedAt[i] as number) - (grantedAt[i - 1] as number)).toBeGreaterThanOrEqual(39);
    }
  });

  it('against the simulator: its 429 carries no Retry-After, and the client waits, retries and gets the bars', async () => {
    const simulator = await sim({ speed: 60, start: TUESDAY_1002_ET });
    simulator.faults.failHttp(1, 429, { venue: 'polygon' });
    const raw = await fetch(
      `${simulator.polygon.restUrl}/v2/aggs/ticker/AAPL/range/1/minute/2024-03-05/2024-03-05`,
      { headers: { Authorization: `Bearer ${simulator.polygon.apiKey}` } },
    );
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBeNull();
    await raw.arrayBuffer();
    simulator.faults.failHttp(1, 429, { venue: 'polygon' });
    const rest = new PolygonRest({
      restBaseUrl: simulator.polygon.restUrl,
      apiKey: simulator.polygon.apiKey,
      feed: 'realtime',
      requestTimeoutMs: 5000,
      maxRetries: 3,
      pacing: { fallbackWaitMs: 100, windowMs: 300 },
    });
    const fromMs = Date.UTC(2024, 2, 5, 14, 30);
    const bars = await rest.bars(
      'AAPL',
      1,
      'minute',
      fromMs,
      fromMs + 30 * 60_000,
      new AbortController().signal,
    );
    expect(bars.length).toBeGreaterThan(0);
    expect(simulator.stats.httpRequests('polygon')).toBe(3); // the raw one, the 429, the retry
  });

  it('one scheduler per host: a 429 met by one client paces every other client of the process', async () => {
    const simulator = await sim({ speed: 60, start: TUESDAY_1002_ET });
    const client = (): PolygonRest =>
      new PolygonRest({
        restBaseUrl: simulator.polygon.restUrl,
        apiKey: simulator.polygon.apiKey,
        feed: 'realtime',
        requestTimeoutMs: 5000,
        maxRetries: 3,
        pacing: { fallbackWaitMs: 50, windowMs: 60_000 },
      });
    const download = client();
    const stream = client();
    expect(stream.scheduler).toBe(download.scheduler);
    simulator.faults.failHttp(1, 429, { venue: 'polygon' });
    const fromMs = Date.UTC(2024, 2, 5, 14, 30);
    const signal = new AbortController().signal;
    await download.bars('AAPL', 1, 'minute', fromMs, fromMs + 30 * 60_000, signal);
    // The other client has met no 429, yet its requests are spaced too (the venue counts per IP).
    expect(stream.scheduler.pacingMs()).toBe(50);
    expect(stream.scheduler.stats.rateLimited).toBe(1);
    const bars = await stream.bars('MSFT', 1, 'minute', fromMs, fromMs + 30 * 60_000, signal);
    expect(bars.length).toBeGreaterThan(0);
  });
});
