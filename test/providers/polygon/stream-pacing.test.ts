import { describe, expect, it } from 'vitest';
import {
  RATE_LIMIT_FALLBACK_WAIT_MS,
  RATE_LIMIT_WINDOW_MS,
} from '../../../src/providers/polygon/protocol.js';
import { PolygonRateGate, PolygonRest } from '../../../src/providers/polygon/rest.js';
import { sim } from './stream-helpers.js';

const TUESDAY_1002_ET = Date.UTC(2024, 2, 5, 15, 2, 30);

describe('Polygon 429 pacing recovers (issue 14.4)', () => {
  it('spaces requests one free-tier slot apart after a 429 without Retry-After, then returns to full speed once a window passes without one', () => {
    const gate = new PolygonRateGate();
    const t0 = 1_000_000;
    gate.onRateLimited(undefined, t0);
    // The refused request and the next ones wait their slots inside the window.
    expect(gate.delayMs(t0)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
    expect(gate.delayMs(t0)).toBe(2 * RATE_LIMIT_FALLBACK_WAIT_MS);
    expect(gate.spacingMs(t0 + RATE_LIMIT_WINDOW_MS - 1)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
    // A window without a 429: back to full speed, for good.
    const later = t0 + RATE_LIMIT_WINDOW_MS + 5 * RATE_LIMIT_FALLBACK_WAIT_MS;
    expect(gate.spacingMs(later)).toBe(0);
    expect([gate.delayMs(later), gate.delayMs(later), gate.delayMs(later)]).toEqual([0, 0, 0]);
    expect(gate.delayMs(later + 3_600_000)).toBe(0);
  });

  it('a new 429 within or after recovery starts a new paced window', () => {
    const gate = new PolygonRateGate();
    gate.onRateLimited(undefined, 0);
    const later = 10 * RATE_LIMIT_WINDOW_MS;
    expect(gate.delayMs(later)).toBe(0);
    gate.onRateLimited(undefined, later);
    expect(gate.delayMs(later)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
    expect(gate.spacingMs(later + 1)).toBe(RATE_LIMIT_FALLBACK_WAIT_MS);
  });

  it('slots reserved inside the window never push requests past it', () => {
    const gate = new PolygonRateGate();
    gate.onRateLimited(undefined, 0);
    const delays = Array.from({ length: 20 }, () => gate.delayMs(0));
    // Five free-tier slots fit in a minute; everything after the window starts with it.
    expect(Math.max(...delays)).toBeLessThanOrEqual(RATE_LIMIT_WINDOW_MS);
    expect(delays.filter((d) => d === RATE_LIMIT_WINDOW_MS).length).toBeGreaterThan(10);
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
});
