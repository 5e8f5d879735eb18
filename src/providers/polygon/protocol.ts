// Polygon.io / Massive wire protocol: types and numbers, each citing PROTOCOLS.md §2.

/** PROTOCOLS.md §2.1: default REST host (Massive also serves api.massive.com). */
export const DEFAULT_REST_BASE_URL = 'https://api.polygon.io';
/** PROTOCOLS.md §2.3: real-time WebSocket host; the cluster path is appended. */
export const REALTIME_WS_BASE_URL = 'wss://socket.polygon.io';
/** PROTOCOLS.md §2.3: 15-minute delayed WebSocket host, same protocol. */
export const DELAYED_WS_BASE_URL = 'wss://delayed.polygon.io';
/** PROTOCOLS.md §2.3: the stocks cluster. */
export const STOCKS_CLUSTER_PATH = '/stocks';

/**
 * Polygon's "Ticker Details v3" endpoint, `GET /v3/reference/tickers/{ticker}`: 200 with
 * `results` for a ticker Polygon knows, 404 `{"status":"NOT_FOUND","message":"Ticker not
 * found."}` otherwise (vendor docs; body as quoted in polygon-io/issues #339). Not yet in
 * PROTOCOLS.md §2.
 */
export const REFERENCE_TICKER_PATH = '/v3/reference/tickers/';
/** PROTOCOLS.md §2.2: max `limit` of /v2/aggs (base aggregates read per request). */
export const AGGS_PAGE_LIMIT = 50_000;
/** PROTOCOLS.md §2.2 / §3.12: free stocks plan allows 5 requests per minute. */
export const FREE_TIER_REQUESTS_PER_MINUTE = 5;
/** Our choice from §3.12: without Retry-After, wait one free-tier slot (12 s) after a 429. */
export const RATE_LIMIT_FALLBACK_WAIT_MS = 60_000 / FREE_TIER_REQUESTS_PER_MINUTE;
/**
 * Our choice from §2.2 (limits are per minute): after a window this long without a 429, requests
 * go at full speed again.
 */
export const RATE_LIMIT_WINDOW_MS = 60_000;
/** Our choice: never wait longer than this for one 429, whatever Retry-After says. */
export const RATE_LIMIT_MAX_WAIT_MS = 120_000;

/** PROTOCOLS.md §2.3: `e - s` of an `AM` event. */
export const MINUTE_MS = 60_000;
/** PROTOCOLS.md §2.3: `e - s` of an `A` event. */
export const SECOND_MS = 1000;

/** PROTOCOLS.md §2.3: event type of a per-minute aggregate. */
export const EV_MINUTE = 'AM';
/** PROTOCOLS.md §2.3: event type of a per-second aggregate. */
export const EV_SECOND = 'A';
/** PROTOCOLS.md §2.3: event type of a status message. */
export const EV_STATUS = 'status';

/** PROTOCOLS.md §2.3 status values. `success` doubles as the connect status in the spec. */
export type PolygonStatus =
  | 'connected'
  | 'auth_success'
  | 'auth_failed'
  | 'auth_timeout'
  | 'auth_required'
  | 'success'
  | 'error'
  | 'max_connections'
  | 'force_disconnect'
  | 'slow_consumer';

/** PROTOCOLS.md §2.3: `{"ev":"status","status":…,"message":…}`. */
export interface StatusEvent {
  ev: 'status';
  status: string;
  message?: string;
}

/** PROTOCOLS.md §2.3 `AM` / `A`: only the fields we read; the rest are ignored. */
export interface AggregateEvent {
  ev: 'AM' | 'A';
  sym: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  /** Window start, ms. */
  s: number;
  /** Window end, ms. */
  e: number;
}

/** PROTOCOLS.md §2.2: one element of `results`. `vw`, `n`, `otc` are optional and unused. */
export interface AggsResult {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  t: number;
}

/** PROTOCOLS.md §2.2: 200 body of /v2/aggs. `results` is absent when empty. */
export interface AggsResponse {
  ticker?: string;
  status?: string;
  resultsCount?: number;
  results?: AggsResult[];
  next_url?: string;
}

/** PROTOCOLS.md §2.2 errors: `error` or `message`, both seen. */
export interface PolygonErrorBody {
  status?: string;
  request_id?: string;
  error?: string;
  message?: string;
}

/** PROTOCOLS.md §2.3 client frames: single objects. */
export function authFrame(apiKey: string): string {
  return JSON.stringify({ action: 'auth', params: apiKey });
}

/** PROTOCOLS.md §2.3: one comma-separated `params` string of `<EV>.<TICKER>` items. */
export function subscribeFrame(ev: 'AM' | 'A', tickers: readonly string[]): string {
  return JSON.stringify({
    action: 'subscribe',
    params: tickers.map((t) => `${ev}.${t}`).join(','),
  });
}

/** PROTOCOLS.md §2.4: minute aggregates exist only from 04:00 ET (pre-market opens)… */
export const EXTENDED_HOURS_OPEN_MINUTE = 4 * 60;
/** PROTOCOLS.md §2.4: …to 20:00 ET (after-hours closes), Monday to Friday. */
export const EXTENDED_HOURS_CLOSE_MINUTE = 20 * 60;
