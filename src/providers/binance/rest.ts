import { MarketDataError, toMarketDataError } from '../../core/errors.js';
import { bucketStartMs, intervalMs, openTimesBetween } from '../../core/intervals.js';
import { decimal, isPlausibleOhlcv, venueBarId } from '../../core/ohlcv.js';
import type { Interval, MarketData } from '../../core/types.js';
import { getJson, type RetryPolicy } from '../../http/request.js';
import {
  type RestScheduler,
  schedulerHost,
  sharedRestScheduler,
} from '../../http/rest-scheduler.js';
import { SharedTimeRead } from '../../http/shared-time-read.js';
import { usedWeightFromHeaders } from '../../http/weight-budget.js';
import {
  DEFAULT_WEIGHT_LIMIT,
  EXCHANGE_INFO_BATCH,
  type ExchangeInfo,
  KLINES_PAGE_LIMIT,
  type KlineRow,
  REQUEST_WEIGHT,
  readBinanceErrorBody,
  TRADING_STATUS,
  WEIGHT_WINDOW_MS,
} from './protocol.js';

/** Settings of the REST client (from the provider's validated config). */
export interface BinanceRestOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: Partial<RetryPolicy>;
}

/** One page of a download: open times in `[startMs, endMs]`, `count` bars expected. */
export interface KlinePage {
  startMs: number;
  endMs: number;
  count: number;
}

/** Reads `X-MBX-USED-WEIGHT-1M` into the host's scheduler (PROTOCOLS.md §1.3). */
function observeWeight(scheduler: RestScheduler, headers: Headers): void {
  const used = usedWeightFromHeaders(headers);
  if (used !== undefined) scheduler.observeUsed(WEIGHT_WINDOW_MS, used);
}

/**
 * Binance Spot public REST (PROTOCOLS.md §1.5): server time, exchangeInfo symbol checks and
 * klines paging. Every request goes through the host's shared {@link RestScheduler} (one per
 * host, process-wide: Binance counts weight per IP) with its weight reserved before sending.
 */
export class BinanceRest {
  /** The host's scheduler, shared with every other stream and download of the process. */
  readonly scheduler: RestScheduler;
  private readonly baseUrl: string;
  /** The server-time read of each stream (keyed by its signal), shared by its backfills. */
  private readonly timeReads = new SharedTimeRead((signal) => this.serverTimeMs(signal));

  constructor(private readonly options: BinanceRestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.scheduler = sharedRestScheduler(schedulerHost(this.baseUrl), {
      windows: [{ limit: DEFAULT_WEIGHT_LIMIT, windowMs: WEIGHT_WINDOW_MS }],
      mode: 'aligned',
    });
  }

  private async get<T>(
    path: string,
    params: Record<string, string>,
    weight: number,
    signal?: AbortSignal,
  ) {
    const query = new URLSearchParams(params).toString();
    const url = `${this.baseUrl}${path}${query ? `?${query}` : ''}`;
    const response = await getJson<T>(url, {
      signal,
      timeoutMs: this.options.timeoutMs,
      retry: this.options.retry,
      readErrorBody: readBinanceErrorBody,
      scheduled: { scheduler: this.scheduler, cost: weight, observe: observeWeight },
      service: 'Binance',
    });
    return response.body;
  }

  /** PROTOCOLS.md §1.5 `GET /api/v3/time`; also aligns the scheduler's windows to it. */
  async serverTimeMs(signal?: AbortSignal): Promise<number> {
    const body = await this.get<{ serverTime?: unknown }>(
      '/api/v3/time',
      {},
      REQUEST_WEIGHT.time,
      signal,
    );
    if (typeof body.serverTime !== 'number' || !Number.isFinite(body.serverTime)) {
      throw new MarketDataError('PROTOCOL', 'Binance /api/v3/time answered without serverTime', {
        fatal: false,
      });
    }
    this.scheduler.noteServerTime(body.serverTime);
    return body.serverTime;
  }

  /**
   * A server time read no earlier than `sinceMs` (local `performance.now()`), shared by every
   * caller with the same `signal`: after a reconnect, all symbols of the socket backfill up to
   * one read, so a reconnect costs one `/api/v3/time`, not one per symbol.
   */
  serverTimeSince(sinceMs: number, signal: AbortSignal): Promise<number> {
    return this.timeReads.since(sinceMs, signal);
  }

  /** PROTOCOLS.md §1.5 exchangeInfo; also adopts the published REQUEST_WEIGHT limit. */
  async exchangeInfo(params: Record<string, string>, signal?: AbortSignal): Promise<ExchangeInfo> {
    const info = await this.get<ExchangeInfo>(
      '/api/v3/exchangeInfo',
      params,
      REQUEST_WEIGHT.exchangeInfo,
      signal,
    );
    const weight = info.rateLimits?.find(
      (l) => l.rateLimitType === 'REQUEST_WEIGHT' && l.interval === 'MINUTE' && l.intervalNum === 1,
    );
    if (weight) this.scheduler.setLimit(WEIGHT_WINDOW_MS, weight.limit);
    if (typeof info.serverTime === 'number') this.scheduler.noteServerTime(info.serverTime);
    return info;
  }

  /**
   * Throws a fatal `INVALID_SYMBOL` naming every symbol the exchange does not list, and every
   * listed one whose status is not `TRADING` (delisted `BREAK`, paused `HALT`: their streams
   * are silent for ever, PROTOCOLS.md §1.5). Asks in batches (`symbols=[...]`); only when a
   * batch fails with -1121 are its symbols checked one by one, to name the bad ones
   * (PROTOCOLS.md §1.5: one unknown symbol fails the whole request).
   */
  async validateSymbols(symbols: readonly string[], signal?: AbortSignal): Promise<void> {
    const unknown: string[] = [];
    const notTrading: string[] = [];
    const check = (info: ExchangeInfo, symbol: string): void => {
      const listed = info.symbols?.find((s) => s.symbol === symbol);
      if (listed === undefined) unknown.push(symbol);
      else if (listed.status !== TRADING_STATUS) notTrading.push(`${symbol} (${listed.status})`);
    };
    for (let i = 0; i < symbols.length; i += EXCHANGE_INFO_BATCH) {
      const batch = symbols.slice(i, i + EXCHANGE_INFO_BATCH);
      try {
        const info = await this.exchangeInfo({ symbols: JSON.stringify(batch) }, signal);
        for (const symbol of batch) check(info, symbol);
      } catch (error) {
        if (!(MarketDataError.is(error) && error.code === 'INVALID_SYMBOL')) throw error;
        for (const symbol of batch) {
          const info = await this.listing(symbol, signal);
          if (info === undefined) unknown.push(symbol);
          else check(info, symbol);
        }
      }
    }
    const problems: string[] = [];
    if (unknown.length > 0) {
      problems.push(
        `Binance does not list ${unknown.join(', ')}: check the spelling (e.g. BTCUSDT) and that the pair trades on Binance Spot${this.baseUrl.includes('testnet') ? ' testnet' : ''}`,
      );
    }
    if (notTrading.length > 0) {
      problems.push(
        `Binance lists ${notTrading.join(', ')} but does not trade ${notTrading.length === 1 ? 'it' : 'them'} (BREAK = delisted or suspended, HALT = paused): ${notTrading.length === 1 ? 'its stream sends' : 'their streams send'} nothing; download the history instead`,
      );
    }
    if (problems.length > 0) {
      throw new MarketDataError('INVALID_SYMBOL', problems.join('; '), { fatal: true });
    }
  }

  /**
   * Decimal places of each symbol's price tick (exchangeInfo `PRICE_FILTER.tickSize`): 2 for a
   * tick of `0.01000000`. Symbols without a filter are left out.
   */
  async priceDecimals(
    symbols: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, number>> {
    const decimals = new Map<string, number>();
    for (let i = 0; i < symbols.length; i += EXCHANGE_INFO_BATCH) {
      const batch = symbols.slice(i, i + EXCHANGE_INFO_BATCH);
      const info = await this.exchangeInfo({ symbols: JSON.stringify(batch) }, signal);
      for (const listing of info.symbols ?? []) {
        const tick = listing.filters?.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize;
        const places = tick === undefined ? undefined : tickDecimals(tick);
        if (places !== undefined) decimals.set(listing.symbol, places);
      }
    }
    return decimals;
  }

  private async listing(symbol: string, signal?: AbortSignal): Promise<ExchangeInfo | undefined> {
    try {
      return await this.exchangeInfo({ symbol }, signal);
    } catch (error) {
      if (MarketDataError.is(error) && error.code === 'INVALID_SYMBOL') return undefined;
      throw error;
    }
  }

  /** PROTOCOLS.md §1.5 klines with both bounds: open times in `[startMs, endMs]`, ≤ 1000 rows. */
  async klines(
    symbol: string,
    interval: Interval,
    startMs: number,
    endMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<unknown[]> {
    const params: Record<string, string> = {
      symbol,
      interval,
      startTime: String(startMs),
      limit: String(KLINES_PAGE_LIMIT),
    };
    if (endMs !== undefined) params.endTime = String(endMs);
    const rows = await this.get<unknown>('/api/v3/klines', params, REQUEST_WEIGHT.klines, signal);
    if (!Array.isArray(rows)) {
      throw new MarketDataError('PROTOCOL', `Binance klines for ${symbol} is not an array`, {
        fatal: false,
      });
    }
    return rows;
  }

  /** Closed bars of one download page (bars still open at `serverTimeMs` are dropped). */
  async pageBars(
    symbol: string,
    interval: Interval,
    page: KlinePage,
    serverTimeMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const rows = await this.klines(symbol, interval, page.startMs, page.endMs, signal);
    return rowsToClosedBars(rows, symbol, interval, serverTimeMs, page.startMs - 1);
  }

  /**
   * Every closed bar with open time > `afterOpenMs`, in order (stream backfill), collected.
   * See {@link closedPagesAfter}; this reads the server time itself.
   */
  async closedBarsAfter(
    symbol: string,
    interval: Interval,
    afterOpenMs: number,
    signal?: AbortSignal,
  ): Promise<MarketData[]> {
    const out: MarketData[] = [];
    const serverTime = () => this.serverTimeMs(signal);
    await this.closedPagesAfter(symbol, interval, afterOpenMs, serverTime, signal, async (bars) => {
      for (const bar of bars) out.push(bar);
    });
    return out;
  }

  /**
   * Every closed bar with open time > `afterOpenMs`, handed to `onPage` page by page as the
   * pages arrive (a long outage never sits in memory whole). Reads the server's time FIRST
   * (`serverTime`, shared among a reconnect's symbols): the caller's new socket is already
   * live, so bars closing after that moment arrive on it, and bars closing before it are all
   * final here (PROTOCOLS.md §3.1: the still-open bar has closeTime ≥ serverTime and is dropped).
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
      let startMs = afterOpenMs + 1;
      while (true) {
        const rows = await this.klines(symbol, interval, startMs, undefined, signal);
        const bars = rowsToClosedBars(rows, symbol, interval, serverTimeMs, startMs - 1);
        if (bars.length > 0) await onPage(bars);
        // Fewer than a page, or reached the open bar: done (PROTOCOLS.md §3.2).
        if (rows.length < KLINES_PAGE_LIMIT || bars.length < rows.length) return;
        const last = bars.at(-1);
        if (last === undefined) return;
        startMs = last.time.getTime() + 1;
      }
    } catch (error) {
      throw toMarketDataError(error, 'NETWORK', `backfill of ${symbol} over Binance REST failed`);
    }
  }
}

/**
 * Kline rows → closed bars, validated: rows must be arrays with an integer open time after
 * `afterOpenMs`, strictly increasing, and non-negative finite prices/volume; otherwise a
 * non-fatal `PROTOCOL` error (the request is retried by the caller's policy).
 */
export function rowsToClosedBars(
  rows: readonly unknown[],
  symbol: string,
  interval: Interval,
  serverTimeMs: number,
  afterOpenMs: number,
): MarketData[] {
  const bars: MarketData[] = [];
  let lastOpenMs = afterOpenMs;
  for (const raw of rows) {
    const row = raw as Partial<KlineRow>;
    const openMs = row[0];
    const closeMs = row[6];
    if (
      !Array.isArray(raw) ||
      typeof openMs !== 'number' ||
      !Number.isInteger(openMs) ||
      typeof closeMs !== 'number' ||
      openMs <= lastOpenMs
    ) {
      throw badRow(symbol, raw);
    }
    lastOpenMs = openMs;
    // PROTOCOLS.md §3.1: final only once closeTime < serverTime.
    if (closeMs >= serverTimeMs) break;
    const bar: MarketData = {
      id: venueBarId(symbol, interval, openMs),
      symbol,
      time: new Date(openMs),
      open: decimal(row[1]),
      high: decimal(row[2]),
      low: decimal(row[3]),
      close: decimal(row[4]),
      volume: decimal(row[5]),
    };
    if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
      throw badRow(symbol, raw);
    }
    bars.push(bar);
  }
  return bars;
}

function badRow(symbol: string, row: unknown): MarketDataError {
  const text = JSON.stringify(row) ?? String(row);
  return new MarketDataError(
    'PROTOCOL',
    `Binance klines for ${symbol} contain a malformed row: ${text.slice(0, 200)}`,
    { fatal: false },
  );
}

/**
 * The pages of a download: open times in `[startMs, endMs]` split into runs of at most
 * `limit` bars, computed up front so they can be fetched concurrently (PROTOCOLS.md §3.2:
 * selection is by open time, inclusive at both ends). Fixed-length intervals use arithmetic
 * (a year of 1s bars is 31 M open times; no array of them); `1M` steps calendar months.
 */
export function planKlinePages(
  interval: Interval,
  startMs: number,
  endMs: number,
  limit = KLINES_PAGE_LIMIT,
): KlinePage[] {
  const pages: KlinePage[] = [];
  if (endMs < startMs) return pages;
  if (interval === '1M') {
    const opens = openTimesBetween(interval, startMs, endMs);
    for (let i = 0; i < opens.length; i += limit) {
      const chunk = opens.slice(i, i + limit);
      pages.push({
        startMs: chunk[0] as number,
        endMs: chunk.at(-1) as number,
        count: chunk.length,
      });
    }
    return pages;
  }
  const lengthMs = intervalMs(interval);
  let firstMs = bucketStartMs(interval, startMs);
  if (firstMs < startMs) firstMs += lengthMs;
  const lastMs = bucketStartMs(interval, endMs);
  for (let pageStartMs = firstMs; pageStartMs <= lastMs; pageStartMs += limit * lengthMs) {
    const pageEndMs = Math.min(pageStartMs + (limit - 1) * lengthMs, lastMs);
    pages.push({
      startMs: pageStartMs,
      endMs: pageEndMs,
      count: (pageEndMs - pageStartMs) / lengthMs + 1,
    });
  }
  return pages;
}

/** `"0.01000000"` → 2, `"1.00000000"` → 0; undefined for anything that is not a positive decimal. */
export function tickDecimals(tickSize: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(tickSize) || Number(tickSize) <= 0) return undefined;
  const fraction = tickSize.split('.')[1] ?? '';
  return fraction.replace(/0+$/, '').length;
}
