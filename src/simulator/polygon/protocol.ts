// Polygon.io / Massive numbers and wire formats, copied from PROTOCOLS.md §2.

import { randomBytes } from 'node:crypto';
import type { Profile, RawBar } from '../model.js';

/** PROTOCOLS.md §2.2: default `limit` (base aggregates). */
export const AGGS_DEFAULT_LIMIT = 5000;
/** PROTOCOLS.md §2.2: maximum `limit`. */
export const AGGS_MAX_LIMIT = 50_000;
/** PROTOCOLS.md §2.2: accepted timespans. */
export const TIMESPANS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];
/** PROTOCOLS.md §2.3: `A` is sent about 2 s after its second ends. */
export const SECOND_AGG_DELAY_MS = 2000;

/** A Polygon-style request id (32 hex characters). */
export function requestId(): string {
  return randomBytes(16).toString('hex');
}

/** PROTOCOLS.md §2.2 error bodies. */
export const errors = {
  noKey: () => ({ status: 'ERROR', request_id: requestId(), error: 'API Key was not provided' }),
  badKey: () => ({ status: 'ERROR', request_id: requestId(), error: 'Unknown API Key' }),
  badParam: (detail: string) => ({
    status: 'ERROR',
    request_id: requestId(),
    error: `Failed to parse query parameters from URL: ${detail}`,
  }),
  rateLimited: () => ({
    status: 'ERROR',
    request_id: requestId(),
    error:
      "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue.",
  }),
  /**
   * GET /v3/reference/tickers/{ticker} for a ticker Polygon does not know: 404 with this body
   * (Polygon's "Ticker Details v3" docs; body as quoted in polygon-io/issues #339). Not yet in
   * PROTOCOLS.md §2.
   */
  tickerNotFound: () => ({
    status: 'NOT_FOUND',
    request_id: requestId(),
    message: 'Ticker not found.',
  }),
  server: (status: number) => ({
    status: 'ERROR',
    request_id: requestId(),
    error: status === 503 ? 'Service Unavailable' : 'Internal Server Error',
  }),
};

/** GET /v3/reference/tickers/{ticker} 200 body: the listing fields a client can rely on. */
export function tickerDetails(ticker: string): unknown {
  return {
    request_id: requestId(),
    results: {
      ticker,
      name: `${ticker} (simulated)`,
      market: 'stocks',
      locale: 'us',
      type: 'CS',
      active: true,
      currency_name: 'usd',
    },
    status: 'OK',
  };
}

const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Window VWAP stand-in: the typical price, within [low, high]. */
export function vwap(p: Profile, raw: RawBar): number {
  return round4((raw.h + raw.l + raw.c) / 3 / p.ticksPerUnit);
}

/** One REST `results` item (PROTOCOLS.md §2.2). */
export function restResult(p: Profile, raw: RawBar): Record<string, number> {
  return {
    v: raw.v,
    vw: vwap(p, raw),
    o: raw.o / p.ticksPerUnit,
    c: raw.c / p.ticksPerUnit,
    h: raw.h / p.ticksPerUnit,
    l: raw.l / p.ticksPerUnit,
    t: raw.openMs,
    n: raw.n,
  };
}

/** An `AM`/`A` event (PROTOCOLS.md §2.3) for `raw`, with the day's running totals in `day`. */
export function aggregateEvent(
  ev: 'AM' | 'A',
  ticker: string,
  p: Profile,
  raw: RawBar,
  day: RawBar,
): string {
  const t = p.ticksPerUnit;
  const endMs = raw.openMs + (ev === 'AM' ? 60_000 : 1000);
  return `{"ev":"${ev}","sym":"${ticker}","v":${raw.v},"av":${day.v},"op":${day.o / t},"vw":${vwap(p, raw)},"o":${raw.o / t},"c":${raw.c / t},"h":${raw.h / t},"l":${raw.l / t},"a":${vwap(p, day)},"z":${Math.round(raw.v / Math.max(1, raw.n))},"s":${raw.openMs},"e":${endMs}}`;
}

/** An aggregate-shaped frame with wrong field types, for the malformed-frame fault. */
export const WRONG_TYPES_FRAME =
  '[{"ev":"AM","sym":42,"v":"lots","o":"1.0","c":null,"s":"soon","e":[]}]';

/** A status frame. */
export function statusFrame(status: string, message: string): string {
  return JSON.stringify([{ ev: 'status', status, message }]);
}
