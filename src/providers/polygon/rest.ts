// Polygon /v2/aggs over REST (PROTOCOLS.md §2.2): paging by next_url, rate limits, errors.

import { MarketDataError, redactUrl } from '../../core/errors.js';
import { isPlausibleOhlcv } from '../../core/ohlcv.js';
import type { MarketData, Timespan } from '../../core/types.js';
import {
  type ErrorBodyReader,
  genericErrorBody,
  getJson,
  type JsonResponse,
  type RequestGate,
} from '../../http/request.js';
import type { RestSchedulerObserver } from '../../http/rest-scheduler.js';
import {
  AGGS_PAGE_LIMIT,
  type AggsResponse,
  type AggsResult,
  type PolygonErrorBody,
  RATE_LIMIT_MAX_WAIT_MS,
  REFERENCE_TICKER_PATH,
} from './protocol.js';
import { observedGate, PolygonRateGate, type RatePacing } from './rate-gate.js';

export { PolygonRateGate, type RatePacing } from './rate-gate.js';

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
  /** 429 pacing (see {@link PolygonRateGate}); the defaults unless a test wants short windows. */
  pacing?: RatePacing;
  /** Told of every attempt and 429 (metrics); undefined costs nothing. */
  observer?: RestSchedulerObserver | undefined;
}

/** One page of aggregates: bars in `t` order, and where the next page is. */
export interface AggsPage {
  bars: MarketData[];
  nextUrl: string | undefined;
  /** The venue's clock when it answered (`Date` header, PROTOCOLS.md §2.4), if it sent one. */
  serverNowMs?: number;
}

/** A range end in the aggregates path: a ms timestamp, or a `YYYY-MM-DD` New York date. */
export type AggsRangeEnd = number | string;

/**
 * REST client for the aggregates endpoint. The key travels only in the `Authorization: Bearer`
 * header (PROTOCOLS.md §2.1), never in a URL, so a logged or printed URL cannot leak it. One
 * instance is shared by every request of a download or stream, so a 429 pauses all of them.
 */
export class PolygonRest {
  readonly #options: PolygonRestOptions;
  readonly #gate: PolygonRateGate;
  readonly #budget: RequestGate;
  readonly #readErrorBody: ErrorBodyReader;

  constructor(options: PolygonRestOptions) {
    this.#options = options;
    this.#gate = new PolygonRateGate(options.pacing);
    this.#budget =
      options.observer === undefined ? this.#gate : observedGate(this.#gate, options.observer);
    this.#readErrorBody = readPolygonErrorBody(options.feed);
  }

  /**
   * First-page URL of `multiplier` × `timespan` bars of `ticker` from `from` to `to`: ms
   * timestamps, or New York dates (whole days, PROTOCOLS.md §2.4) as Polygon's own clients send
   * for a request by day.
   */
  aggsUrl(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    from: AggsRangeEnd,
    to: AggsRangeEnd,
  ): URL {
    const base = this.#options.restBaseUrl.replace(/\/+$/, '');
    const path = `/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/${multiplier}/${timespan}/${from}/${to}`;
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
    for await (const page of this.aggsPages(ticker, multiplier, timespan, fromMs, toMs, signal)) {
      yield page.bars;
    }
  }

  /** As {@link pages}, with each page's `next_url` and server clock. */
  async *aggsPages(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    from: AggsRangeEnd,
    to: AggsRangeEnd,
    signal: AbortSignal,
  ): AsyncGenerator<AggsPage> {
    let url: URL | undefined = this.aggsUrl(ticker, multiplier, timespan, from, to);
    while (url !== undefined) {
      const page = await this.page(url, ticker, signal);
      yield page;
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

  /** One page: GET with retries (`http/request.ts`, paced by this client's 429 gate), then parsed. */
  async page(url: URL, ticker: string, signal: AbortSignal): Promise<AggsPage> {
    const response = await this.#getJsonResponse(url, signal);
    const page = parseAggsResponse(response.body, ticker, url);
    const serverNowMs = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(serverNowMs)) page.serverNowMs = serverNowMs;
    return page;
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

  /**
   * Whether Polygon's reference data knows `ticker` (GET /v3/reference/tickers/{ticker}: 404
   * `NOT_FOUND` when it does not, see {@link REFERENCE_TICKER_PATH}). Other failures throw.
   */
  async tickerExists(ticker: string, signal: AbortSignal): Promise<boolean> {
    const base = this.#options.restBaseUrl.replace(/\/+$/, '');
    const url = new URL(`${base}${REFERENCE_TICKER_PATH}${encodeURIComponent(ticker)}`);
    const readErrorBody: ErrorBodyReader = (status, text) =>
      status === 404
        ? { code: 'INVALID_SYMBOL', message: bodyMessage(text) }
        : this.#readErrorBody(status, text);
    try {
      await this.#getJsonResponse(url, signal, readErrorBody);
      return true;
    } catch (error) {
      if (MarketDataError.is(error) && error.code === 'INVALID_SYMBOL') return false;
      throw error;
    }
  }

  /**
   * Bars of one range that had closed by the venue's clock: each page keeps the bars that ended
   * (open + `barMs`) by its response's `Date` header, since Polygon may include the bar still
   * forming. `venueNowMs` is the newest `Date` seen (the venue's clock, whole seconds).
   */
  async closedBars(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
    barMs: number,
    signal: AbortSignal,
  ): Promise<{ bars: MarketData[]; venueNowMs: number }> {
    const bars: MarketData[] = [];
    let venueNowMs = Number.NEGATIVE_INFINITY;
    for await (const page of this.aggsPages(ticker, multiplier, timespan, fromMs, toMs, signal)) {
      // Without a readable Date header, the local clock: the best left, and never ahead of a
      // venue whose clock runs faster (a simulator).
      const dateMs = page.serverNowMs ?? Date.now();
      if (dateMs > venueNowMs) venueNowMs = dateMs;
      for (const bar of page.bars) if (bar.time.getTime() + barMs <= dateMs) bars.push(bar);
    }
    return { bars, venueNowMs };
  }

  async #getJson(url: URL, signal: AbortSignal): Promise<unknown> {
    return (await this.#getJsonResponse(url, signal)).body;
  }

  async #getJsonResponse(
    url: URL,
    signal: AbortSignal,
    readErrorBody = this.#readErrorBody,
  ): Promise<JsonResponse<unknown>> {
    const response = await getJson<unknown>(url, {
      signal,
      timeoutMs: this.#options.requestTimeoutMs,
      headers: { Authorization: `Bearer ${this.#options.apiKey}` },
      retry: {
        maxRetries: this.#options.maxRetries,
        initialDelayMs: RETRY_INITIAL_DELAY_MS,
        maxDelayMs: RETRY_MAX_DELAY_MS,
        maxRetryAfterMs: RATE_LIMIT_MAX_WAIT_MS,
      },
      readErrorBody,
      budget: this.#budget,
      service: 'Polygon',
    });
    return response;
  }
}

/**
 * Reads a Polygon error body (`error` or `message`, PROTOCOLS.md §2.2) and says what to do:
 * 401 is a bad key, 403 a plan without this data (fatal `AUTH_FAILED`, from `http/request.ts`).
 */
export function readPolygonErrorBody(feed: 'realtime' | 'delayed'): ErrorBodyReader {
  return (status, text) => {
    const said = bodyMessage(text);
    if (status === 401) {
      return { message: `${said}; check the key (apiKey or POLYGON_API_KEY)` };
    }
    if (status === 403) {
      return {
        message: `${said}; your plan does not include this data or timeframe (requested for the ${feed} feed): check the plan's entitlements, or use a range/timespan it covers`,
      };
    }
    if (status === 429) {
      return {
        message: `${said}; the plan allows fewer requests per minute (free tier: 5): try again later or lower downloadConcurrency`,
      };
    }
    return { message: said };
  };
}

function bodyMessage(text: string): string {
  try {
    const body = JSON.parse(text) as PolygonErrorBody;
    const said = body.error ?? body.message;
    if (typeof said === 'string' && said.length > 0) return said;
  } catch {
    // not JSON: fall through to the generic reader's snippet
  }
  return genericErrorBody(text).message;
}

function isResult(value: unknown): value is AggsResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return isPlausibleOhlcv(r.o, r.h, r.l, r.c, r.v) && Number.isInteger(r.t);
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
