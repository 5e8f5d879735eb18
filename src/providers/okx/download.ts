import { OKX_INST_ID_PATTERN, OKX_INTERVALS } from '../../config/schemas.js';
import { abortError, throwIfAborted } from '../../core/abort.js';
import { downloadRangeMs } from '../../core/download-range.js';
import {
  ConfigError,
  MarketDataError,
  toMarketDataError,
  writerNotConfigured,
} from '../../core/errors.js';
import { bucketStartMs, intervalMs, timespanToInterval } from '../../core/intervals.js';
import {
  type Interval,
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
} from '../../core/types.js';
import { fetchPagesInOrder } from '../../http/ordered-pages.js';
// The page planner is venue-neutral (open times in runs of `limit`); Binance's is reused.
import { planKlinePages } from '../binance/rest.js';
import {
  CANDLES_PAGE_LIMIT,
  CANDLES_RECENT_BARS,
  HISTORY_PAGE_LIMIT,
  RECENT_MARGIN_BARS,
} from './protocol.js';
import type { OkxRest } from './rest.js';

/**
 * Download closed candles of `params.ticker` into `writer` (PROTOCOLS.md §6.2, §3.18–3.20):
 * check the instrument (51001 → `INVALID_SYMBOL`), read the server time, plan pages up to the
 * last CLOSED bar (100 open times for `history-candles`, 300 for the recent part `candles`
 * serves), fetch them `concurrency` at a time through the endpoints' schedulers, write them in
 * ascending order, report progress in bars, and finalize. On any failure or abort the writer is
 * closed without finalize (no file) and the promise rejects with a MarketDataError.
 */
export async function downloadCandles(
  rest: OkxRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const { signal } = params;
  const instId = checkTicker(params.ticker);
  const interval = okxInterval(params.multiplier, params.timespan);
  const { startMs, endMs } = downloadRangeMs(params);
  throwIfAborted(signal);
  await writer.initialize();
  try {
    if ((await rest.instruments(instId, signal)).every((i) => i.instId !== instId)) {
      throw new MarketDataError(
        'INVALID_SYMBOL',
        `OKX does not list ${instId} (code 51001): check the instrument id, e.g. BTC-USDT`,
        { fatal: true },
      );
    }
    const serverTimeMs = await rest.serverTimeMs(signal);
    const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
    const lastMs = Math.min(endMs, lastClosedOpenMs);
    // Bars older than the `candles` window come from `history-candles` in pages of 100 (the
    // margin is doubled here: `rangeBars` decides again when the page is fetched).
    const recentFromMs =
      interval === '1M'
        ? Number.NEGATIVE_INFINITY
        : bucketStartMs(interval, serverTimeMs) -
          (CANDLES_RECENT_BARS - 1 - 2 * RECENT_MARGIN_BARS) * intervalMs(interval);
    const pages = [
      ...planKlinePages(interval, startMs, Math.min(lastMs, recentFromMs - 1), HISTORY_PAGE_LIMIT),
      ...planKlinePages(interval, Math.max(startMs, recentFromMs), lastMs, CANDLES_PAGE_LIMIT),
    ];
    const total = pages.reduce((sum, page) => sum + page.count, 0);
    let current = 0;
    let written = 0;
    params.onProgress?.(0, total, `${instId} ${interval}: ${pages.length} pages to fetch`);
    await fetchPagesInOrder(
      pages,
      concurrency,
      (page, _index, pageSignal) =>
        rest.rangeBars(instId, interval, page.startMs, page.endMs, serverTimeMs, pageSignal),
      async (bars: MarketData[], page, index) => {
        if (bars.length > 0) {
          if (isBatchWriter(writer)) await writer.writeBatch(bars);
          else for (const bar of bars) await writer.write(bar);
        }
        written += bars.length;
        current += page.count;
        params.onProgress?.(
          current,
          total,
          `${instId} ${interval}: page ${index + 1}/${pages.length}, ${written} bars written`,
        );
      },
      signal,
    );
    throwIfAborted(signal);
    return await writer.finalize();
  } catch (error) {
    await writer.close().catch(() => {});
    if (signal?.aborted) throw abortError(signal, error);
    throw toMarketDataError(error, 'WRITER', `download of ${instId} failed`, true);
  }
}

function checkTicker(ticker: unknown): string {
  const instId = typeof ticker === 'string' ? ticker.toUpperCase() : '';
  if (!OKX_INST_ID_PATTERN.test(instId)) {
    throw new MarketDataError(
      'INVALID_SYMBOL',
      `invalid OKX instrument id ${JSON.stringify(ticker)}: use BASE-QUOTE letters and digits, e.g. BTC-USDT`,
      { fatal: true },
    );
  }
  return instId;
}

/** The bar size as an interval OKX has, or `INVALID_INTERVAL` naming the ones it has. */
export function okxInterval(
  multiplier: number,
  timespan: SizedDownloadParams['timespan'],
): Interval {
  const interval = timespanToInterval(multiplier, timespan);
  if (!OKX_INTERVALS.includes(interval)) {
    throw new ConfigError(
      'interval',
      `OKX has no ${interval} bars; it has ${OKX_INTERVALS.join(', ')}`,
      { code: 'INVALID_INTERVAL' },
    );
  }
  return interval;
}
