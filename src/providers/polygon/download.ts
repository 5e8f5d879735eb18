// Polygon downloads (PROTOCOLS.md §2.2): ranges split into windows, fetched side by side, written
// in order.

import { POLYGON_TICKER_PATTERN } from '../../config/schemas.js';
import { abortError, throwIfAborted } from '../../core/abort.js';
import { downloadRangeMs } from '../../core/download-range.js';
import {
  ConfigError,
  MarketDataError,
  toMarketDataError,
  writerNotConfigured,
} from '../../core/errors.js';
import { TIMESPANS } from '../../core/intervals.js';
import { isNyDayRange, nyDate, nyDayStartMs } from '../../core/ny-calendar.js';
import {
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
  type Timespan,
} from '../../core/types.js';
import { fetchPagesInOrder } from '../../http/ordered-pages.js';
import { BarProgress, barEndMs, maxBarsBetween } from './download-bounds.js';
import type { AggsRangeEnd, PolygonRest } from './rest.js';

/**
 * The body of `PolygonProvider.download` (see its TSDoc), apart from the provider's wiring as in
 * Binance's `download.ts`: windows from {@link planWindows} are fetched `concurrency` at a time
 * and written strictly in order; on failure or abort the writer is closed without finalizing.
 * Bars are kept when their open time is in `[startDate, endDate]` and their window has ended by
 * the venue's clock (the response's `Date` header, PROTOCOLS.md §2.4).
 */
export async function downloadAggregates(
  rest: PolygonRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number,
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  validateDownload(params);
  const signal = params.signal ?? new AbortController().signal;
  throwIfAborted(signal);
  const startMs = params.startDate.getTime();
  const endMs = params.endDate.getTime();
  const { multiplier, timespan } = params;
  const windows = planWindows(multiplier, timespan, startMs, endMs);
  const progress = new BarProgress(
    params.onProgress,
    windows.map((w) =>
      maxBarsBetween(
        multiplier,
        timespan,
        Math.max(w.keepFromMs, startMs),
        Math.min(w.keepBeforeMs - 1, endMs),
      ),
    ),
  );
  try {
    await writer.initialize();
  } catch (error) {
    await writer.close().catch(() => {});
    throw toMarketDataError(error, 'WRITER', 'initializing the writer failed', true);
  }
  try {
    progress.report(`${params.ticker}: starting`);
    await fetchPagesInOrder(
      windows,
      concurrency,
      (window, _index, pageSignal) =>
        fetchWindow(rest, params, window, { startMs, endMs }, pageSignal),
      async (windowBars, window, index) => {
        await writeAll(writer, windowBars);
        progress.windowDone(index, windowBars.length);
        progress.report(
          `${params.ticker}: ${progress.written} bars to ${new Date(Math.min(window.toMs, endMs)).toISOString()}`,
        );
      },
      signal,
    );
    if (progress.written === 0) await confirmTicker(rest, params.ticker, startMs, endMs, signal);
    const path = await writer.finalize().catch((error: unknown) => {
      throw toMarketDataError(error, 'WRITER', 'finalizing the output failed', true);
    });
    progress.report(`${params.ticker}: ${progress.written} bars written`);
    await writer.close().catch(() => {});
    return path;
  } catch (error) {
    await writer.close().catch(() => {});
    if (signal.aborted) throw abortError(signal, error);
    throw toMarketDataError(error, 'NETWORK', `download of ${params.ticker} failed`);
  }
}

async function fetchWindow(
  rest: PolygonRest,
  params: SizedDownloadParams,
  window: DownloadWindow,
  range: { startMs: number; endMs: number },
  signal: AbortSignal,
): Promise<MarketData[]> {
  const { multiplier, timespan } = params;
  const keepFromMs = Math.max(window.keepFromMs, range.startMs);
  const keepBeforeMs = Math.min(window.keepBeforeMs, range.endMs + 1);
  const bars: MarketData[] = [];
  for await (const page of rest.aggsPages(
    params.ticker,
    multiplier,
    timespan,
    window.from,
    window.to,
    signal,
  )) {
    // Without a Date header (every origin server sends one), the local clock is the best guess.
    const serverNowMs = page.serverNowMs ?? Date.now();
    for (const bar of page.bars) {
      const openMs = bar.time.getTime();
      if (openMs < keepFromMs || openMs >= keepBeforeMs) continue;
      // PROTOCOLS.md §2.4: a bar whose window has not ended keeps changing; never write it.
      if (barEndMs(multiplier, timespan, openMs) > serverNowMs) continue;
      bars.push(bar);
    }
  }
  return bars;
}

/**
 * No bar at all may be a quiet range (a weekend, a holiday) or a ticker Polygon does not know:
 * the aggregates endpoint answers both with 200 and no results (PROTOCOLS.md §2.2), so ask the
 * reference endpoint, and refuse the second instead of writing an empty file.
 */
async function confirmTicker(
  rest: PolygonRest,
  ticker: string,
  startMs: number,
  endMs: number,
  signal: AbortSignal,
): Promise<void> {
  if (await rest.tickerExists(ticker, signal)) return;
  const range = `${new Date(startMs).toISOString()} … ${new Date(endMs).toISOString()}`;
  throw new MarketDataError(
    'INVALID_SYMBOL',
    `Polygon does not know the ticker '${ticker}' (no bars in ${range}, and its reference data has no such ticker): check the spelling; tickers are case-sensitive, with class and preferred suffixes as in BRK.B or AMpB`,
    { fatal: true },
  );
}

async function writeAll(writer: MarketDataWriter, bars: MarketData[]): Promise<void> {
  if (bars.length === 0) return;
  try {
    if (isBatchWriter(writer)) {
      await writer.writeBatch(bars);
    } else {
      for (const bar of bars) await writer.write(bar);
    }
  } catch (error) {
    throw toMarketDataError(error, 'WRITER', 'writing bars failed', true);
  }
}

function validateDownload(params: SizedDownloadParams): void {
  if (typeof params.ticker !== 'string' || !POLYGON_TICKER_PATTERN.test(params.ticker)) {
    throw new ConfigError(
      'ticker',
      `invalid Polygon ticker '${String(params.ticker)}': must look like AAPL or BRK.A (upper case)`,
      { code: 'INVALID_SYMBOL' },
    );
  }
  if (!TIMESPANS.includes(params.timespan)) {
    throw new ConfigError(
      'timespan',
      `invalid timespan '${String(params.timespan)}': use one of ${TIMESPANS.join(', ')}`,
      { code: 'INVALID_INTERVAL' },
    );
  }
  if (!Number.isInteger(params.multiplier) || params.multiplier < 1) {
    throw new ConfigError(
      'multiplier',
      `invalid multiplier ${String(params.multiplier)}: must be a whole number ≥ 1`,
      { code: 'INVALID_INTERVAL' },
    );
  }
  downloadRangeMs(params);
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

/**
 * One slice of a download: request `from`–`to` (ms, or New York dates for a request by day),
 * which is `[fromMs, toMs]`, and keep bars with `t` in `[keepFromMs, keepBeforeMs)`.
 */
export interface DownloadWindow {
  from: AggsRangeEnd;
  to: AggsRangeEnd;
  fromMs: number;
  toMs: number;
  keepFromMs: number;
  keepBeforeMs: number;
}

/** Our choice: New York days per window of a download by day (≤ 43,200 minutes, under 50000). */
const WINDOW_DAYS = 30;

/**
 * Splits `[fromMs, toMs]` into windows that can be fetched at once. Edges fall on bar
 * boundaries; because Polygon snaps `from`/`to` to whole bars (PROTOCOLS.md §2.2), each window
 * keeps only bars starting inside it, so an edge never yields a bar twice. A range of whole New
 * York days (what a day string means, PROTOCOLS.md §2.4) is requested by day, with day strings in
 * the path as Polygon's own clients send them; windows are then whole days too.
 */
export function planWindows(
  multiplier: number,
  timespan: Timespan,
  fromMs: number,
  toMs: number,
): DownloadWindow[] {
  if (timespan !== 'second' && isNyDayRange(fromMs, toMs)) {
    return openOuterEdges(planDayWindows(timespan, fromMs, toMs));
  }
  const barMs = (FIXED_BAR_MS[timespan] ?? Number.POSITIVE_INFINITY) * multiplier;
  const nominalMs = WINDOW_MS[timespan];
  if (!Number.isFinite(barMs) || barMs >= nominalMs || toMs - fromMs < nominalMs) {
    return openOuterEdges([
      { from: fromMs, to: toMs, fromMs, toMs, keepFromMs: fromMs, keepBeforeMs: toMs + 1 },
    ]);
  }
  const lengthMs = Math.floor(nominalMs / barMs) * barMs;
  const alignedMs = Math.floor(fromMs / barMs) * barMs;
  const windows: DownloadWindow[] = [];
  for (let edgeMs = alignedMs; edgeMs <= toMs; edgeMs += lengthMs) {
    const endMs = edgeMs + lengthMs;
    const windowFromMs = Math.max(edgeMs, fromMs);
    const windowToMs = Math.min(endMs - 1, toMs);
    windows.push({
      from: windowFromMs,
      to: windowToMs,
      fromMs: windowFromMs,
      toMs: windowToMs,
      keepFromMs: edgeMs,
      keepBeforeMs: endMs,
    });
  }
  return openOuterEdges(windows);
}

/** Windows of at most {@link WINDOW_DAYS} New York days (one window for day bars and longer). */
function planDayWindows(timespan: Timespan, fromMs: number, toMs: number): DownloadWindow[] {
  const windows: DownloadWindow[] = [];
  const intraday = timespan === 'minute' || timespan === 'hour';
  for (let edgeMs = fromMs; edgeMs <= toMs; ) {
    const nextMs = intraday ? Math.min(nyDayStartMs(edgeMs, WINDOW_DAYS), toMs + 1) : toMs + 1;
    windows.push({
      from: nyDate(edgeMs),
      to: nyDate(nextMs - 1),
      fromMs: edgeMs,
      toMs: nextMs - 1,
      keepFromMs: edgeMs,
      keepBeforeMs: nextMs,
    });
    edgeMs = nextMs;
  }
  return windows;
}

/** The outer bounds are left to the caller's range filter, as the Go provider leaves them to the API. */
function openOuterEdges(windows: DownloadWindow[]): DownloadWindow[] {
  const first = windows[0];
  const last = windows[windows.length - 1];
  if (first) first.keepFromMs = Number.NEGATIVE_INFINITY;
  if (last) last.keepBeforeMs = Number.POSITIVE_INFINITY;
  return windows;
}
