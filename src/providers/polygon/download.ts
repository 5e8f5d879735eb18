// Polygon downloads (PROTOCOLS.md §2.2): ranges split into windows, fetched side by side, written
// in order.

import { POLYGON_TICKER_PATTERN } from '../../config/schemas.js';
import { abortError, throwIfAborted } from '../../core/abort.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { ConfigError, toMarketDataError, writerNotConfigured } from '../../core/errors.js';
import { TIMESPANS } from '../../core/intervals.js';
import {
  type DownloadParams,
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
  type Timespan,
} from '../../core/types.js';
import { fetchPagesInOrder } from '../../http/ordered-pages.js';
import type { PolygonRest } from './rest.js';

/**
 * The body of `PolygonProvider.download` (see its TSDoc), apart from the provider's wiring as in
 * Binance's `download.ts`: windows from {@link planWindows} are fetched `concurrency` at a time
 * and written strictly in order; on failure or abort the writer is closed without finalizing.
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
  const windows = planWindows(params.multiplier, params.timespan, startMs, endMs);
  const totalMs = Math.max(1, endMs - startMs);
  const progress = monotonicProgress(params.onProgress, totalMs);
  try {
    await writer.initialize();
  } catch (error) {
    await writer.close().catch(() => {});
    throw toMarketDataError(error, 'WRITER', 'initializing the writer failed', true);
  }
  try {
    progress(0, `${params.ticker}: starting`);
    let bars = 0;
    await fetchPagesInOrder(
      windows,
      concurrency,
      (window, _index, pageSignal) => fetchWindow(rest, params, window, pageSignal),
      async (windowBars, window) => {
        await writeAll(writer, windowBars);
        bars += windowBars.length;
        progress(
          Math.min(window.toMs, endMs) - startMs,
          `${params.ticker}: ${bars} bars to ${new Date(window.toMs).toISOString()}`,
        );
      },
      signal,
    );
    const path = await writer.finalize().catch((error: unknown) => {
      throw toMarketDataError(error, 'WRITER', 'finalizing the output failed', true);
    });
    progress(totalMs, `${params.ticker}: ${bars} bars written`);
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
  signal: AbortSignal,
): Promise<MarketData[]> {
  const bars: MarketData[] = [];
  for await (const page of rest.pages(
    params.ticker,
    params.multiplier,
    params.timespan,
    window.fromMs,
    window.toMs,
    signal,
  )) {
    for (const bar of page) {
      const openMs = bar.time.getTime();
      if (openMs >= window.keepFromMs && openMs < window.keepBeforeMs) bars.push(bar);
    }
  }
  return bars;
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

function monotonicProgress(
  onProgress: DownloadParams['onProgress'],
  totalMs: number,
): (currentMs: number, message: string) => void {
  let lastMs = -1;
  return (currentMs, message) => {
    if (onProgress === undefined) return;
    const clamped = Math.min(totalMs, Math.max(lastMs, currentMs, 0));
    lastMs = clamped;
    try {
      onProgress(clamped, totalMs, message);
    } catch {
      // A throwing progress callback is the caller's bug; it must not break the download.
    }
  };
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
