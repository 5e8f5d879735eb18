import { sleep } from '../../core/abort.js';
import { MarketDataError, toMarketDataError } from '../../core/errors.js';
import { bucketStartMs } from '../../core/intervals.js';
import type { Interval, MarketData } from '../../core/types.js';
import { getJson, type RetryPolicy } from '../../http/request.js';
import {
  type RestScheduler,
  schedulerHost,
  sharedRestScheduler,
} from '../../http/rest-scheduler.js';
import { SharedTimeRead } from '../../http/shared-time-read.js';
// Venue-neutral helpers of the Binance REST client (page planning by open time, tick decimals).
import { type KlinePage, planKlinePages, tickDecimals } from '../binance/rest.js';
import {
  BAN_MS,
  BYBIT_RET_CODE,
  type BybitEnvelope,
  bybitWireInterval,
  type InstrumentsResult,
  KLINE_PAGE_LIMIT,
  type KlineResult,
  REQUEST_WINDOW_MS,
  REQUESTS_PER_WINDOW,
  readBybitErrorBody,
} from './protocol.js';
import { rowsToClosedBars } from './rows.js';

export type { KlinePage } from '../binance/rest.js';

/** Settings of the REST client (from the provider's validated config). */
export interface BybitRestOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: Partial<RetryPolicy>;
}

/** Our choice: pause after a 10006 "Too many visits!" (HTTP 200, no Retry-After). */
const TOO_MANY_VISITS_PAUSE_MS = 1000;
/** Our choice: above this many symbols, read the whole spot list once instead of one by one. */
const LIST_ALL_ABOVE = 20;

/**
 * Bybit v5 Spot public REST (PROTOCOLS.md §5.2): server time, instrument checks and kline
 * paging. Every request goes through the host's shared {@link RestScheduler} (Bybit counts 600
 * requests per 5 s per IP, over any 5 s: a rolling window), reserved before it is sent, so the
 * 403 ban is never drawn by this process.
 */
export class BybitRest {
  /** The host's scheduler, shared with every other stream and download of the process. */
  readonly scheduler: RestScheduler;
  private readonly baseUrl: string;
  private readonly timeReads = new SharedTimeRead((signal) => this.serverTimeMs(signal));

  constructor(private readonly options: BybitRestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.scheduler = sharedRestScheduler(schedulerHost(this.baseUrl), {
      windows: [{ limit: REQUESTS_PER_WINDOW, windowMs: REQUEST_WINDOW_MS }],
      mode: 'rolling',
    });
  }

  /** One GET; a `retCode` ≠ 0 is an error (10006 pauses the host and retries). */
  private async get<T>(
    path: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ result: T; timeMs: number | undefined }> {
    const url = `${this.baseUrl}${path}?${new URLSearchParams(params).toString()}`;
    const maxRetries = this.options.retry.maxRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      let body: BybitEnvelope<T>;
      try {
        const response = await getJson<BybitEnvelope<T>>(url, {
          signal,
          timeoutMs: this.options.timeoutMs,
          retry: this.options.retry,
          readErrorBody: readBybitErrorBody,
          scheduled: { scheduler: this.scheduler, cost: 1 },
          service: 'Bybit',
        });
        body = response.body;
      } catch (error) {
        // getJson pauses for 2 minutes on a ban; Bybit's lasts at least 10 (PROTOCOLS.md §5.2).
        if (MarketDataError.is(error) && error.code === 'IP_BANNED') {
          this.scheduler.pause(BAN_MS, 'banned');
        }
        throw error;
      }
      // No noteServerTime: Bybit's window rolls (any 5 s counts), so there is nothing to align,
      // and moving the rolling log's clock would misplace the reservations already in it.
      const timeMs = typeof body.time === 'number' ? body.time : undefined;
      if (body.retCode === BYBIT_RET_CODE.OK && body.result !== undefined) {
        return { result: body.result, timeMs };
      }
      const message = `Bybit ${path} answered retCode ${String(body.retCode)}: ${String(body.retMsg ?? '')}`;
      if (body.retCode === BYBIT_RET_CODE.TOO_MANY_VISITS && attempt < maxRetries) {
        this.scheduler.pause(TOO_MANY_VISITS_PAUSE_MS, 'rate-limited');
        await sleep(TOO_MANY_VISITS_PAUSE_MS, signal);
        continue;
      }
      if (body.retCode === BYBIT_RET_CODE.TOO_MANY_VISITS) {
        throw new MarketDataError('RATE_LIMITED', `${message}; slow down`, { fatal: false });
      }
      throw new MarketDataError('HTTP', message, {
        fatal: true,
        cause: { bybitRetCode: body.retCode },
      });
    }
  }

  /** PROTOCOLS.md §5.2 `GET /v5/market/time` in ms. */
  async serverTimeMs(signal?: AbortSignal): Promise<number> {
    const { result, timeMs } = await this.get<{ timeSecond?: unknown; timeNano?: unknown }>(
      '/v5/market/time',
      {},
      signal,
    );
    const nano = typeof result.timeNano === 'string' ? Number(result.timeNano) / 1e6 : Number.NaN;
    const ms = Number.isFinite(nano) ? Math.floor(nano) : timeMs;
    if (ms === undefined || !Number.isFinite(ms)) {
      throw new MarketDataError('PROTOCOL', 'Bybit /v5/market/time answered without a time', {
        fatal: false,
      });
    }
    return ms;
  }

  /** A server time read no earlier than `sinceMs` (local), shared by callers with `signal`. */
  serverTimeSince(sinceMs: number, signal: AbortSignal): Promise<number> {
    return this.timeReads.since(sinceMs, signal);
  }

  /** Spot instruments: `symbol` alone, or the whole list (PROTOCOLS.md §5.2). */
  private async instruments(symbol: string | undefined, signal?: AbortSignal) {
    const params: Record<string, string> = { category: 'spot' };
    if (symbol !== undefined) params.symbol = symbol;
    try {
      const { result } = await this.get<InstrumentsResult>(
        '/v5/market/instruments-info',
        params,
        signal,
      );
      return result.list ?? [];
    } catch (error) {
      // PROTOCOLS.md §5.2 [obs]: an unknown symbol may be a 10001 instead of an empty list.
      if (retCodeOf(error) === BYBIT_RET_CODE.PARAMS) return [];
      throw error;
    }
  }

  /**
   * Throws a fatal `INVALID_SYMBOL` naming every symbol Bybit Spot does not list as `Trading`
   * (PROTOCOLS.md §5.2: delisted pairs drop out of the list; an unknown one is an empty list or
   * retCode 10001), before any socket is opened.
   */
  async validateSymbols(symbols: readonly string[], signal?: AbortSignal): Promise<void> {
    const listed = new Set<string>();
    if (symbols.length > LIST_ALL_ABOVE) {
      for (const item of await this.instruments(undefined, signal)) {
        if (item.status === 'Trading' && item.symbol) listed.add(item.symbol);
      }
    } else {
      for (const symbol of symbols) {
        const list = await this.instruments(symbol, signal);
        if (list.some((item) => item.symbol === symbol && item.status === 'Trading')) {
          listed.add(symbol);
        }
      }
    }
    const unknown = symbols.filter((s) => !listed.has(s));
    if (unknown.length > 0) {
      throw new MarketDataError(
        'INVALID_SYMBOL',
        `Bybit Spot does not list ${unknown.join(', ')} as trading: check the spelling (e.g. BTCUSDT) and that the pair trades on Bybit Spot${this.baseUrl.includes('testnet') ? ' testnet' : ''}`,
        { fatal: true },
      );
    }
  }

  /** Decimal places of each symbol's `priceFilter.tickSize` (e.g. 2 for `0.01`). */
  async priceDecimals(symbols: readonly string[], signal?: AbortSignal) {
    const decimals = new Map<string, number>();
    const wanted = new Set(symbols);
    for (const item of await this.instruments(undefined, signal)) {
      const tick = item.priceFilter?.tickSize;
      const places = tick === undefined ? undefined : tickDecimals(tick);
      if (item.symbol && wanted.has(item.symbol) && places !== undefined) {
        decimals.set(item.symbol, places);
      }
    }
    return decimals;
  }

  /**
   * PROTOCOLS.md §5.2 kline rows (newest first) for open times in `[startMs, endMs]`. The bounds
   * are sent 1 ms wider, so the range's first and last bars come back whether Bybit treats
   * them as inclusive or exclusive ([unverified]); the parser drops anything outside.
   */
  async klineRows(
    symbol: string,
    interval: Interval,
    startMs: number,
    endMs: number,
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    const wire = bybitWireInterval(interval);
    if (wire === undefined) {
      throw new MarketDataError('INVALID_INTERVAL', `Bybit has no ${interval} klines`, {
        fatal: true,
      });
    }
    const params = {
      category: 'spot',
      symbol,
      interval: wire,
      start: String(Math.max(0, startMs - 1)),
      end: String(endMs + 1),
      limit: String(KLINE_PAGE_LIMIT),
    };
    let result: KlineResult;
    try {
      result = (await this.get<KlineResult>('/v5/market/kline', params, signal)).result;
    } catch (error) {
      if (retCodeOf(error) === BYBIT_RET_CODE.PARAMS) {
        throw new MarketDataError(
          'INVALID_SYMBOL',
          `${(error as Error).message} (symbol ${symbol})`,
          {
            fatal: true,
          },
        );
      }
      throw error;
    }
    if (!Array.isArray(result.list)) {
      throw new MarketDataError('PROTOCOL', `Bybit kline for ${symbol} has no list`, {
        fatal: false,
      });
    }
    return result.list;
  }

  /** Closed bars of one download page, ascending (bars still forming at `serverTimeMs` dropped). */
  async pageBars(
    symbol: string,
    interval: Interval,
    page: KlinePage,
    serverTimeMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const rows = await this.klineRows(symbol, interval, page.startMs, page.endMs, signal);
    return rowsToClosedBars(rows, symbol, interval, serverTimeMs, page.startMs, page.endMs);
  }

  /**
   * Every closed bar with open time > `afterOpenMs`, page by page to `onPage` (stream backfill).
   * Reads the server time FIRST: the caller's socket is already live, so bars closing later
   * arrive on it, and every bar closed before that read is final here.
   */
  async closedPagesAfter(
    symbol: string,
    interval: Interval,
    afterOpenMs: number,
    serverTime: () => Promise<number>,
    signal: AbortSignal | undefined,
    onPage: (bars: MarketData[]) => Promise<void>,
  ): Promise<void> {
    try {
      const serverTimeMs = await serverTime();
      const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
      for (const page of planKlinePages(interval, afterOpenMs + 1, lastClosedOpenMs)) {
        const bars = await this.pageBars(symbol, interval, page, serverTimeMs, signal);
        if (bars.length > 0) await onPage(bars);
      }
    } catch (error) {
      throw toMarketDataError(error, 'NETWORK', `backfill of ${symbol} over Bybit REST failed`);
    }
  }

  /** {@link closedPagesAfter}, collected. */
  async closedBarsAfter(
    symbol: string,
    interval: Interval,
    afterOpenMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const out: MarketData[] = [];
    await this.closedPagesAfter(
      symbol,
      interval,
      afterOpenMs,
      () => this.serverTimeMs(signal),
      signal,
      async (bars) => {
        for (const bar of bars) out.push(bar);
      },
    );
    return out;
  }
}

/** The `retCode` of an error thrown for a Bybit answer with `retCode` ≠ 0 (HTTP 200). */
function retCodeOf(error: unknown): unknown {
  if (!MarketDataError.is(error)) return undefined;
  const cause = error.cause as { bybitRetCode?: unknown } | undefined;
  return typeof cause === 'object' && cause !== null ? cause.bybitRetCode : undefined;
}
