// Polygon /v2/aggs over REST (PROTOCOLS.md §2.2): paging by next_url, rate limits, errors.

import { abortError, sleep } from '../../core/abort.js';
import { MarketDataError, redactUrl } from '../../core/errors.js';
import type { MarketData, Timespan } from '../../core/types.js';
import { parseRetryAfterMs } from '../../http/request.js';
import { backoffDelayMs } from '../../stream/backoff.js';
import {
  AGGS_PAGE_LIMIT,
  type AggsResponse,
  type AggsResult,
  type PolygonErrorBody,
  RATE_LIMIT_FALLBACK_WAIT_MS,
  RATE_LIMIT_MAX_WAIT_MS,
} from './protocol.js';

/** Our choice: first retry delay after a network error or 5xx; doubles per attempt (jitter). */
const RETRY_INITIAL_DELAY_MS = 250;
const RETRY_MAX_DELAY_MS = 10_000;

/** Options of {@link PolygonRest}. */
export interface PolygonRestOptions {
  restBaseUrl: string;
  apiKey: string;
  feed: 'realtime' | 'delayed';
  requestTimeoutMs: number;
  maxRetries: number;
  /** `limit` per request; the API maximum unless a test wants small pages. */
  pageLimit?: number;
}

/** One page of aggregates: bars in `t` order, and where the next page is. */
export interface AggsPage {
  bars: MarketData[];
  nextUrl: string | undefined;
}

/**
 * REST client for the aggregates endpoint. The key travels only in the `Authorization: Bearer`
 * header (PROTOCOLS.md §2.1), never in a URL, so a logged or printed URL cannot leak it. One
 * instance is shared by every request of a download or stream, so a 429 pauses all of them.
 */
export class PolygonRest {
  readonly #options: PolygonRestOptions;
  /** Local clock before which no request starts (after a 429). */
  #blockedUntilMs = 0;
  /** After a 429 without Retry-After we assume the free tier and space requests out. */
  #minSpacingMs = 0;
  #lastStartMs = 0;

  constructor(options: PolygonRestOptions) {
    this.#options = options;
  }

  /** First-page URL of `multiplier` × `timespan` bars of `ticker` between two ms timestamps. */
  aggsUrl(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
  ): URL {
    const base = this.#options.restBaseUrl.replace(/\/+$/, '');
    const path = `/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/${multiplier}/${timespan}/${fromMs}/${toMs}`;
    const url = new URL(base + path);
    url.searchParams.set('adjusted', 'true');
    url.searchParams.set('sort', 'asc');
    url.searchParams.set('limit', String(this.#options.pageLimit ?? AGGS_PAGE_LIMIT));
    return url;
  }

  /**
   * Every bar of one range, following `next_url` (opaque; it carries no key, so each page is
   * authenticated again by the header). Pages are yielded as they arrive.
   */
  async *pages(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
    signal: AbortSignal,
  ): AsyncGenerator<MarketData[]> {
    let url: URL | undefined = this.aggsUrl(ticker, multiplier, timespan, fromMs, toMs);
    const what = `${ticker} ${multiplier} ${timespan} bars`;
    while (url !== undefined) {
      const page = await this.page(url, ticker, what, signal);
      yield page.bars;
      const next: URL | undefined =
        page.nextUrl === undefined ? undefined : this.#nextUrl(page.nextUrl);
      if (next !== undefined && next.href === url.href) {
        throw new MarketDataError(
          'PROTOCOL',
          `Polygon sent next_url equal to the page just read (${redactUrl(next)}); stopping to avoid a loop`,
          { fatal: true },
        );
      }
      url = next;
    }
  }

  /** All bars of a range (see {@link pages}), concatenated. */
  async bars(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
    signal: AbortSignal,
  ): Promise<MarketData[]> {
    const out: MarketData[] = [];
    for await (const page of this.pages(ticker, multiplier, timespan, fromMs, toMs, signal)) {
      for (const bar of page) out.push(bar);
    }
    return out;
  }

  /** One page: GET with retries, then validated and converted. */
  async page(url: URL, ticker: string, what: string, signal: AbortSignal): Promise<AggsPage> {
    const body = await this.#getJson(url, what, signal);
    return parseAggsResponse(body, ticker, url);
  }

  // next_url may point at another host (api.massive.com); it is used as given, and only ever
  // printed through redactUrl.
  #nextUrl(nextUrl: string): URL {
    try {
      return new URL(nextUrl, this.#options.restBaseUrl);
    } catch (cause) {
      throw new MarketDataError(
        'PROTOCOL',
        `Polygon sent an invalid next_url: ${redactUrl(nextUrl)}`,
        {
          fatal: true,
          cause,
        },
      );
    }
  }

  async #getJson(url: URL, what: string, signal: AbortSignal): Promise<unknown> {
    const printable = redactUrl(url);
    let attempt = 0;
    while (true) {
      await this.#waitTurn(signal);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { Authorization: `Bearer ${this.#options.apiKey}`, Accept: 'application/json' },
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.requestTimeoutMs)]),
        });
      } catch (cause) {
        if (signal.aborted) throw abortError(signal, cause);
        const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
        const reason = timedOut
          ? `no answer within ${this.#options.requestTimeoutMs} ms`
          : cause instanceof Error
            ? cause.message
            : String(cause);
        attempt += 1;
        if (attempt > this.#options.maxRetries) {
          throw new MarketDataError(
            'NETWORK',
            `GET ${printable} (${what}) failed after ${attempt} attempts: ${reason}`,
            { fatal: false, cause },
          );
        }
        await sleep(backoffDelayMs(attempt, RETRY_INITIAL_DELAY_MS, RETRY_MAX_DELAY_MS), signal);
        continue;
      }
      if (response.ok) {
        try {
          return await response.json();
        } catch (cause) {
          if (signal.aborted) throw abortError(signal, cause);
          throw new MarketDataError('PROTOCOL', `GET ${printable} (${what}): body is not JSON`, {
            fatal: false,
            cause,
          });
        }
      }
      const text = await response.text().catch(() => '');
      const detail = errorDetail(text);
      const status = response.status;
      if (status === 429 || status >= 500) {
        attempt += 1;
        if (attempt > this.#options.maxRetries) {
          throw new MarketDataError(
            status === 429 ? 'RATE_LIMITED' : 'HTTP',
            `GET ${printable} (${what}): HTTP ${status}${detail} after ${attempt} attempts; ${
              status === 429
                ? 'the plan allows fewer requests per minute (free tier: 5); try again later or lower downloadConcurrency'
                : 'Polygon is having trouble; try again later'
            }`,
            { fatal: false },
          );
        }
        if (status === 429) {
          this.#onRateLimited(response.headers.get('retry-after'));
        } else {
          await sleep(backoffDelayMs(attempt, RETRY_INITIAL_DELAY_MS, RETRY_MAX_DELAY_MS), signal);
        }
        continue;
      }
      throw httpError(status, detail, printable, what, this.#options.feed);
    }
  }

  // Unlike the shared http/request.ts, a 429 here pauses every request of this client (the
  // windows fetched side by side), and without Retry-After switches to free-tier pacing.
  #onRateLimited(retryAfter: string | null): void {
    const retryAfterMs = parseRetryAfterMs(retryAfter);
    const waitMs =
      retryAfterMs === undefined
        ? RATE_LIMIT_FALLBACK_WAIT_MS
        : Math.min(retryAfterMs, RATE_LIMIT_MAX_WAIT_MS);
    if (retryAfterMs === undefined) this.#minSpacingMs = RATE_LIMIT_FALLBACK_WAIT_MS;
    this.#blockedUntilMs = Math.max(this.#blockedUntilMs, Date.now() + waitMs);
  }

  async #waitTurn(signal: AbortSignal): Promise<void> {
    while (true) {
      const nowMs = Date.now();
      const startAtMs = Math.max(this.#blockedUntilMs, this.#lastStartMs + this.#minSpacingMs);
      if (startAtMs <= nowMs) break;
      await sleep(startAtMs - nowMs, signal);
    }
    this.#lastStartMs = Date.now();
  }
}

/** `: "text"` from a Polygon error body (`error` or `message`, PROTOCOLS.md §2.2), or ''. */
export function errorDetail(text: string): string {
  if (text.length === 0) return '';
  try {
    const body = JSON.parse(text) as PolygonErrorBody;
    const said = body.error ?? body.message;
    if (typeof said === 'string' && said.length > 0) return `: "${said}"`;
  } catch {
    // not JSON: fall through to a short excerpt
  }
  return `: ${text.slice(0, 200)}`;
}

/** The error for a non-retryable HTTP status, with what the user can do. */
export function httpError(
  status: number,
  detail: string,
  printableUrl: string,
  what: string,
  feed: 'realtime' | 'delayed',
): MarketDataError {
  if (status === 401) {
    return new MarketDataError(
      'AUTH_FAILED',
      `Polygon rejected the API key (HTTP 401${detail}) for ${what}. Check the key (apiKey or POLYGON_API_KEY)`,
      { fatal: true },
    );
  }
  if (status === 403) {
    return new MarketDataError(
      'AUTH_FAILED',
      `Polygon refused ${what} (HTTP 403${detail}): your plan does not include this data or timeframe (requested for the ${feed} feed). Check the plan's entitlements, or use a range/timespan it covers`,
      { fatal: true },
    );
  }
  return new MarketDataError(
    'HTTP',
    `GET ${printableUrl} (${what}) failed: HTTP ${status}${detail}`,
    { fatal: true },
  );
}

function isResult(value: unknown): value is AggsResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.o === 'number' &&
    typeof r.h === 'number' &&
    typeof r.l === 'number' &&
    typeof r.c === 'number' &&
    typeof r.v === 'number' &&
    Number.isInteger(r.t)
  );
}

/** Validates a /v2/aggs 200 body (PROTOCOLS.md §2.2, §3.11) and converts its results. */
export function parseAggsResponse(body: unknown, ticker: string, url: URL): AggsPage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MarketDataError(
      'PROTOCOL',
      `Polygon aggregates for ${ticker}: unexpected body from ${redactUrl(url)}`,
      { fatal: false },
    );
  }
  const response = body as AggsResponse;
  const results: unknown = response.results;
  const bars: MarketData[] = [];
  if (results !== undefined) {
    if (!Array.isArray(results)) {
      throw new MarketDataError(
        'PROTOCOL',
        `Polygon aggregates for ${ticker}: results is not a list`,
        {
          fatal: false,
        },
      );
    }
    for (const result of results) {
      if (!isResult(result)) {
        throw new MarketDataError(
          'PROTOCOL',
          `Polygon aggregates for ${ticker}: malformed bar ${JSON.stringify(result).slice(0, 120)}`,
          { fatal: false },
        );
      }
      bars.push({
        id: '',
        symbol: ticker,
        time: new Date(result.t),
        open: result.o,
        high: result.h,
        low: result.l,
        close: result.c,
        volume: result.v,
      });
    }
  }
  const nextUrl =
    typeof response.next_url === 'string' && response.next_url ? response.next_url : undefined;
  return { bars, nextUrl };
}

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Our choice: window length per timespan, so one window stays well under the 50000 base bars. */
const WINDOW_MS: Record<Timespan, number> = {
  second: 12 * HOUR_MS, // 43,200 seconds
  minute: 30 * DAY_MS, // 43,200 minutes
  hour: 30 * DAY_MS,
  day: Number.POSITIVE_INFINITY, // base bars are days: one window
  week: Number.POSITIVE_INFINITY,
  month: Number.POSITIVE_INFINITY,
};

const FIXED_BAR_MS: Partial<Record<Timespan, number>> = {
  second: SECOND_MS,
  minute: MINUTE_MS,
  hour: HOUR_MS,
};

/** One slice of a download: request `[fromMs, toMs]`, keep bars with `t` in `[keepFromMs, keepBeforeMs)`. */
export interface DownloadWindow {
  fromMs: number;
  toMs: number;
  keepFromMs: number;
  keepBeforeMs: number;
}

/**
 * Splits `[fromMs, toMs]` into windows that can be fetched at once. Edges fall on bar
 * boundaries; because Polygon snaps `from`/`to` to whole bars (PROTOCOLS.md §2.2), each window
 * keeps only bars starting inside it, so an edge never yields a bar twice. The outer bounds are
 * left to the API, as the Go provider does.
 */
export function planWindows(
  multiplier: number,
  timespan: Timespan,
  fromMs: number,
  toMs: number,
): DownloadWindow[] {
  const barMs = (FIXED_BAR_MS[timespan] ?? Number.POSITIVE_INFINITY) * multiplier;
  const nominalMs = WINDOW_MS[timespan];
  if (!Number.isFinite(barMs) || barMs >= nominalMs || toMs - fromMs < nominalMs) {
    return [
      {
        fromMs,
        toMs,
        keepFromMs: Number.NEGATIVE_INFINITY,
        keepBeforeMs: Number.POSITIVE_INFINITY,
      },
    ];
  }
  const lengthMs = Math.floor(nominalMs / barMs) * barMs;
  const alignedMs = Math.floor(fromMs / barMs) * barMs;
  const windows: DownloadWindow[] = [];
  for (let edgeMs = alignedMs; edgeMs <= toMs; edgeMs += lengthMs) {
    const endMs = edgeMs + lengthMs;
    windows.push({
      fromMs: Math.max(edgeMs, fromMs),
      toMs: Math.min(endMs - 1, toMs),
      keepFromMs: edgeMs,
      keepBeforeMs: endMs,
    });
  }
  const first = windows[0];
  const last = windows[windows.length - 1];
  if (first) first.keepFromMs = Number.NEGATIVE_INFINITY;
  if (last) last.keepBeforeMs = Number.POSITIVE_INFINITY;
  return windows;
}
