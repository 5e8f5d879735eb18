import { foldSymbol, symbolProblem } from '../../config/symbols.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { MarketDataError, writerNotConfigured } from '../../core/errors.js';
import { bucketStartMs, timespanToInterval } from '../../core/intervals.js';
import type { MarketDataWriter, SizedDownloadParams } from '../../core/types.js';
import { downloadPages } from '../paged-download.js';
import { type BinanceRest, type KlinePage, planKlinePages } from './rest.js';

/**
 * Download klines of `params.ticker` into `writer` (PROTOCOLS.md §1.5, §3.1–3.2): check the
 * symbol (exchangeInfo, which also gives the weight limit and the server time), plan pages of
 * 1000 open times up to the last CLOSED bar, and fetch and write them in order through
 * {@link downloadPages} (progress in expected bars, finalize, close; no file on failure).
 */
export async function downloadKlines(
  rest: BinanceRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const symbol = checkTicker(params.ticker);
  const interval = timespanToInterval(params.multiplier, params.timespan);
  const { startMs, endMs } = downloadRangeMs(params);
  return downloadPages<KlinePage>(
    writer,
    { symbol, interval },
    params,
    concurrency,
    async (signal) => {
      const info = await rest.exchangeInfo({ symbol }, signal);
      if (!info.symbols?.some((s) => s.symbol === symbol)) {
        throw new MarketDataError('INVALID_SYMBOL', `Binance does not list ${symbol}`, {
          fatal: true,
        });
      }
      const serverTimeMs = info.serverTime ?? (await rest.serverTimeMs(signal));
      // The bar containing serverTime is still open; the one before it is the last closed bar.
      const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
      return {
        pages: planKlinePages(interval, startMs, Math.min(endMs, lastClosedOpenMs)),
        fetch: (page, pageSignal) =>
          rest.pageBars(symbol, interval, page, serverTimeMs, pageSignal),
      };
    },
  );
}

function checkTicker(ticker: unknown): string {
  const problem = symbolProblem('binance', ticker);
  if (problem !== undefined) {
    throw new MarketDataError(
      'INVALID_SYMBOL',
      `invalid Binance ticker ${JSON.stringify(ticker)}: ${problem}`,
      { fatal: true },
    );
  }
  return foldSymbol('binance', ticker as string);
}
