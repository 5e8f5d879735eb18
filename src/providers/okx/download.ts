import { OKX_INST_ID_PATTERN, OKX_INTERVALS } from '../../config/schemas.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { ConfigError, MarketDataError, writerNotConfigured } from '../../core/errors.js';
import { bucketStartMs, intervalMs, timespanToInterval } from '../../core/intervals.js';
import type { Interval, MarketDataWriter, SizedDownloadParams } from '../../core/types.js';
// The page planner is venue-neutral (open times in runs of `limit`); Binance's is reused.
import { type KlinePage, planKlinePages } from '../binance/rest.js';
import { downloadPages } from '../paged-download.js';
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
 * serves), and fetch them through the endpoints' schedulers and write them in ascending order
 * through {@link downloadPages} (progress in bars, finalize, close; no file on failure).
 */
export async function downloadCandles(
  rest: OkxRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const instId = checkTicker(params.ticker);
  const interval = okxInterval(params.multiplier, params.timespan);
  const { startMs, endMs } = downloadRangeMs(params);
  return downloadPages<KlinePage>(
    writer,
    { symbol: instId, interval },
    params,
    concurrency,
    async (signal) => {
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
      return {
        pages: [
          ...planKlinePages(
            interval,
            startMs,
            Math.min(lastMs, recentFromMs - 1),
            HISTORY_PAGE_LIMIT,
          ),
          ...planKlinePages(interval, Math.max(startMs, recentFromMs), lastMs, CANDLES_PAGE_LIMIT),
        ],
        fetch: (page, pageSignal) =>
          rest.rangeBars(instId, interval, page.startMs, page.endMs, serverTimeMs, pageSignal),
      };
    },
  );
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
