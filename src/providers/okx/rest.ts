import { sleep } from '../../core/abort.js';
import { MarketDataError, toMarketDataError } from '../../core/errors.js';
import { bucketStartMs, intervalMs, nextBucketStartMs } from '../../core/intervals.js';
import type { Interval, MarketData } from '../../core/types.js';
import { getJson, type RetryPolicy } from '../../http/request.js';
import {
  type RestScheduler,
  schedulerHost,
  sharedRestScheduler,
} from '../../http/rest-scheduler.js';
import { SharedTimeRead } from '../../http/shared-time-read.js';
import { backoffDelayMs } from '../../stream/backoff.js';
import { rowsToBars } from './candles.js';
import {
  CANDLES_PAGE_LIMIT,
  CANDLES_RECENT_BARS,
  DEMO_HEADER,
  HISTORY_PAGE_LIMIT,
  OKX_BARS,
  OKX_CODE,
  OKX_LIMITS,
  OKX_PATHS,
  type OkxEndpoint,
  type OkxEnvelope,
  type OkxInstrument,
  RATE_LIMIT_PAUSE_MS,
  RECENT_MARGIN_BARS,
  readOkxErrorBody,
} from './protocol.js';

/** Settings of the REST client (from the provider's validated config). */
export interface OkxRestOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: Partial<RetryPolicy> & { maxRetries: number };
  demo: boolean;
}

/**
 * Our choice: the share of each OKX limit we use. Its windows are small (20 requests per 2 s on
 * history-candles), so one request delayed in flight and arriving with the next burst is 5 % of
 * the window; keeping a fifth back absorbs that jitter (the venue counts arrivals, we count sends).
 */
const OKX_HEADROOM = 0.8;
/** Our choice: retries of a page whose rows were malformed or stale (a lagging cache). */
const PAGE_RETRIES = 3;

/**
 * OKX v5 public REST (PROTOCOLS.md §6.2): time, instruments and candle paging. OKX limits each
 * endpoint on its own (candles 40 / 2 s, history-candles 20 / 2 s, …), so each endpoint of a
 * host has its own shared {@link RestScheduler}, process-wide, used by every stream and
 * download; a request is sent only once its endpoint's window has room.
 */
export class OkxRest {
  /** The host's schedulers, one per endpoint. */
  readonly schedulers: Readonly<Record<OkxEndpoint, RestScheduler>>;
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  /** The last server time read and the local clock then, to estimate the venue's now. */
  private lastTime: { serverMs: number; localMs: number } | undefined;
  private readonly timeReads = new SharedTimeRead((signal) => this.serverTimeMs(signal));

  constructor(private readonly options: OkxRestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.demo ? { ...DEMO_HEADER } : {};
    const host = schedulerHost(this.baseUrl);
    const make = (endpoint: OkxEndpoint): RestScheduler =>
      sharedRestScheduler(`${host}|okx:${endpoint}`, {
        windows: [OKX_LIMITS[endpoint]],
        mode: 'rolling',
        headroom: OKX_HEADROOM,
      });
    this.schedulers = {
      candles: make('candles'),
      historyCandles: make('historyCandles'),
      instruments: make('instruments'),
      time: make('time'),
    };
  }

  /**
   * One GET through the endpoint's scheduler; `data` of a `code` "0" answer. A 50011 (HTTP 429
   * or 200) pauses the endpoint and retries; 51001 is a fatal `INVALID_SYMBOL`; any other code
   * is a fatal `HTTP` error carrying OKX's message.
   */
  private async get<T>(
    endpoint: OkxEndpoint,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const url = `${this.baseUrl}${OKX_PATHS[endpoint]}?${new URLSearchParams(params)}`;
    const scheduler = this.schedulers[endpoint];
    for (let attempt = 0; ; attempt++) {
      const response = await getJson<OkxEnvelope<T>>(url, {
        signal,
        timeoutMs: this.options.timeoutMs,
        retry: this.options.retry,
        headers: this.headers,
        readErrorBody: readOkxErrorBody,
        scheduled: { scheduler, cost: 1 },
        service: 'OKX',
      });
      const { code, msg, data } = response.body;
      if (code === OKX_CODE.OK && Array.isArray(data)) return data;
      const text = `OKX ${OKX_PATHS[endpoint]} answered code ${String(code)}: ${String(msg ?? '')}`;
      if (code === OKX_CODE.TOO_MANY_REQUESTS) {
        // PROTOCOLS.md §6.2: 50011 can come with HTTP 200; the pause holds every request here.
        scheduler.pause(RATE_LIMIT_PAUSE_MS, 'rate-limited');
        if (attempt < this.options.retry.maxRetries) continue;
        throw new MarketDataError('RATE_LIMITED', `${text}; slow down or retry later`, {
          fatal: false,
        });
      }
      if (code === OKX_CODE.UNKNOWN_INSTRUMENT) {
        throw new MarketDataError('INVALID_SYMBOL', `${text} (${params.instId ?? ''})`, {
          fatal: true,
        });
      }
      throw new MarketDataError('HTTP', text, { fatal: true });
    }
  }

  /** PROTOCOLS.md §6.2 `GET /api/v5/public/time`. */
  async serverTimeMs(signal?: AbortSignal): Promise<number> {
    const localMs = performance.now();
    const [row] = await this.get<{ ts?: unknown }>('time', {}, signal);
    const serverMs = Number(row?.ts);
    if (typeof row?.ts !== 'string' || !Number.isInteger(serverMs)) {
      throw new MarketDataError('PROTOCOL', 'OKX /api/v5/public/time answered without ts', {
        fatal: false,
      });
    }
    this.lastTime = { serverMs, localMs };
    return serverMs;
  }

  /** A server time read no earlier than `sinceMs` (local), shared by callers with `signal`. */
  serverTimeSince(sinceMs: number, signal: AbortSignal): Promise<number> {
    return this.timeReads.since(sinceMs, signal);
  }

  /** PROTOCOLS.md §6.2 instruments (SPOT); one id, or all. An unknown id gives `[]`. */
  async instruments(instId?: string, signal?: AbortSignal): Promise<OkxInstrument[]> {
    try {
      return await this.get<OkxInstrument>(
        'instruments',
        { instType: 'SPOT', ...(instId ? { instId } : {}) },
        signal,
      );
    } catch (error) {
      if (MarketDataError.is(error) && error.code === 'INVALID_SYMBOL') return [];
      throw error;
    }
  }

  /** The venue's now: the last server time read plus the local time since. */
  private venueNowMs(): number {
    const last = this.lastTime;
    return last === undefined ? Date.now() : last.serverMs + (performance.now() - last.localMs);
  }

  /**
   * Closed bars with open times in `[startMs, endMs]` (all closed at `serverTimeMs`), ascending.
   * `candles` when the range lies well inside its latest-1,440 window at the time of the
   * request, else `history-candles` (pages of 100), paged back from the end with the exclusive
   * `after`/`before` (PROTOCOLS.md §6.2).
   */
  async rangeBars(
    instId: string,
    interval: Interval,
    startMs: number,
    endMs: number,
    serverTimeMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const floorMs =
      interval === '1M'
        ? Number.NEGATIVE_INFINITY
        : bucketStartMs(interval, this.venueNowMs()) -
          (CANDLES_RECENT_BARS - 1 - RECENT_MARGIN_BARS) * intervalMs(interval);
    if (startMs < floorMs)
      return this.pagedBack(
        'historyCandles',
        instId,
        interval,
        startMs,
        endMs,
        serverTimeMs,
        signal,
      );
    const recent = await this.pagedBack(
      'candles',
      instId,
      interval,
      startMs,
      endMs,
      serverTimeMs,
      signal,
    );
    // The 1,440-bar window may have moved past the start meanwhile (our estimate of the venue's
    // clock lags, or the request waited long): what `candles` did not reach, history serves.
    const firstMs = recent[0]?.time.getTime() ?? endMs + 1;
    if (firstMs <= startMs) return recent;
    const older = await this.pagedBack(
      'historyCandles',
      instId,
      interval,
      startMs,
      firstMs - 1,
      serverTimeMs,
      signal,
    );
    return older.length === 0 ? recent : [...older, ...recent];
  }

  /** Open times `[startMs, endMs]` of one endpoint, paged back from the end; ascending. */
  private async pagedBack(
    endpoint: OkxEndpoint,
    instId: string,
    interval: Interval,
    startMs: number,
    endMs: number,
    serverTimeMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const bar = OKX_BARS[interval] as string;
    const limit = endpoint === 'candles' ? CANDLES_PAGE_LIMIT : HISTORY_PAGE_LIMIT;
    const chunks: MarketData[][] = [];
    let afterMs = endMs + 1;
    while (afterMs > startMs) {
      const params: Record<string, string> = {
        instId,
        bar,
        after: String(afterMs),
        limit: String(limit),
      };
      if (startMs > 0) params.before = String(startMs - 1);
      const { bars, rowCount, oldestMs } = await this.page(
        endpoint,
        params,
        { instId, interval, afterMs, beforeMs: startMs - 1, serverTimeMs },
        signal,
      );
      chunks.push(bars);
      if (rowCount < limit || oldestMs === undefined) break;
      afterMs = oldestMs;
    }
    return chunks.reverse().flat();
  }

  private async page(
    endpoint: OkxEndpoint,
    params: Record<string, string>,
    expect: Parameters<typeof rowsToBars>[1],
    signal?: AbortSignal,
  ): Promise<ReturnType<typeof rowsToBars>> {
    for (let attempt = 0; ; attempt++) {
      const rows = await this.get<unknown>(endpoint, params, signal);
      try {
        return rowsToBars(rows, expect);
      } catch (error) {
        // A malformed or stale page (OKX serves REST from several caches) is asked again.
        if (!MarketDataError.is(error) || error.fatal || attempt >= PAGE_RETRIES) throw error;
        await sleep(backoffDelayMs(attempt + 1, 200, 2000), signal);
      }
    }
  }

  /**
   * Every closed bar with open time > `afterOpenMs`, handed to `onPage` in ascending pages
   * (stream backfill). Reads the server time FIRST (`serverTime`, shared by a reconnect's
   * symbols): the new socket is live, so later bars arrive on it.
   */
  async closedPagesAfter(
    instId: string,
    interval: Interval,
    afterOpenMs: number,
    serverTime: () => Promise<number>,
    signal: AbortSignal | undefined,
    onPage: (bars: MarketData[]) => Promise<void>,
  ): Promise<void> {
    try {
      const serverTimeMs = await serverTime();
      const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
      let startMs = nextBucketStartMs(interval, afterOpenMs);
      while (startMs <= lastClosedOpenMs) {
        // Pages of at most 100 open times, oldest first, so a long outage streams out in order.
        let endMs = startMs;
        for (let n = 1; n < HISTORY_PAGE_LIMIT; n++) {
          const next = nextBucketStartMs(interval, endMs);
          if (next > lastClosedOpenMs) break;
          endMs = next;
        }
        const bars = await this.rangeBars(instId, interval, startMs, endMs, serverTimeMs, signal);
        if (bars.length > 0) await onPage(bars);
        startMs = nextBucketStartMs(interval, endMs);
      }
    } catch (error) {
      throw toMarketDataError(error, 'NETWORK', `backfill of ${instId} over OKX REST failed`);
    }
  }
}
