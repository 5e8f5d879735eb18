import { foldSymbol, symbolProblem } from '../../config/symbols.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { MarketDataError, writerNotConfigured } from '../../core/errors.js';
import { bucketStartMs, timespanToInterval } from '../../core/intervals.js';
import type { Interval, MarketDataWriter, SizedDownloadParams } from '../../core/types.js';
import { type KlinePage, planKlinePages } from '../binance/rest.js';
import { downloadPages } from '../paged-download.js';
import { BYBIT_INTERVAL_LIST, bybitWireInterval } from './protocol.js';
import type { BybitRest } from './rest.js';

/**
 * Download klines of `params.ticker` into `writer` (PROTOCOLS.md §5.2, §3.18): check the symbol
 * (instruments-info), read the server time, plan pages of 1000 open times up to the last CLOSED
 * bar, and fetch them through the host's scheduler (each newest-first answer turned into
 * ascending closed bars) and write them in order through {@link downloadPages} (progress in
 * expected bars, finalize, close; no file on failure).
 */
export async function downloadBybitKlines(
  rest: BybitRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const symbol = checkTicker(params.ticker);
  const interval = checkInterval(timespanToInterval(params.multiplier, params.timespan));
  const { startMs, endMs } = downloadRangeMs(params);
  return downloadPages<KlinePage>(
    writer,
    { symbol, interval },
    params,
    concurrency,
    async (signal) => {
      await rest.validateSymbols([symbol], signal);
      const serverTimeMs = await rest.serverTimeMs(signal);
      // The bar containing the server time is still forming; the one before it is the last closed.
      const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
      return {
        pages: planKlinePages(interval, startMs, Math.min(endMs, lastClosedOpenMs)),
        fetch: (page, pageSignal) =>
          rest.pageBars(symbol, interval, page, serverTimeMs, pageSignal),
      };
    },
  );
}

/** `interval` when Bybit serves it, else a fatal `INVALID_INTERVAL` naming the ones it has. */
export function checkInterval(interval: Interval): Interval {
  if (bybitWireInterval(interval) !== undefined) return interval;
  throw new MarketDataError(
    'INVALID_INTERVAL',
    `Bybit has no ${interval} klines: use one of ${BYBIT_INTERVAL_LIST.join(', ')}`,
    { fatal: true },
  );
}

function checkTicker(ticker: unknown): string {
  const problem = symbolProblem('binance', ticker);
  if (problem !== undefined) {
    throw new MarketDataError(
      'INVALID_SYMBOL',
      `invalid Bybit ticker ${JSON.stringify(ticker)}: ${problem}`,
      { fatal: true },
    );
  }
  return foldSymbol('binance', ticker as string);
}
