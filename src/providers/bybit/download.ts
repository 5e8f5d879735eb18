import { foldSymbol, symbolProblem } from '../../config/symbols.js';
import { abortError, throwIfAborted } from '../../core/abort.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { MarketDataError, toMarketDataError, writerNotConfigured } from '../../core/errors.js';
import { bucketStartMs, timespanToInterval } from '../../core/intervals.js';
import {
  type Interval,
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
} from '../../core/types.js';
import { fetchPagesInOrder } from '../../http/ordered-pages.js';
import { planKlinePages } from '../binance/rest.js';
import { BYBIT_INTERVAL_LIST, bybitWireInterval } from './protocol.js';
import type { BybitRest } from './rest.js';

/**
 * Download klines of `params.ticker` into `writer` (PROTOCOLS.md §5.2, §3.18): check the symbol
 * (instruments-info), read the server time, plan pages of 1000 open times up to the last CLOSED
 * bar, fetch them `concurrency` at a time through the host's scheduler, turn each newest-first
 * answer into ascending closed bars, write them strictly in order, report progress in expected
 * bars, and finalize. On any failure or abort the writer is closed without finalize (no file)
 * and the promise rejects with a MarketDataError.
 */
export async function downloadBybitKlines(
  rest: BybitRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const { signal } = params;
  const symbol = checkTicker(params.ticker);
  const interval = checkInterval(timespanToInterval(params.multiplier, params.timespan));
  const { startMs, endMs } = downloadRangeMs(params);
  throwIfAborted(signal);
  await writer.initialize();
  try {
    await rest.validateSymbols([symbol], signal);
    const serverTimeMs = await rest.serverTimeMs(signal);
    // The bar containing the server time is still forming; the one before it is the last closed.
    const lastClosedOpenMs = bucketStartMs(interval, bucketStartMs(interval, serverTimeMs) - 1);
    const pages = planKlinePages(interval, startMs, Math.min(endMs, lastClosedOpenMs));
    const total = pages.reduce((sum, page) => sum + page.count, 0);
    let current = 0;
    let written = 0;
    params.onProgress?.(0, total, `${symbol} ${interval}: ${pages.length} pages to fetch`);
    await fetchPagesInOrder(
      pages,
      concurrency,
      (page, _index, pageSignal) => rest.pageBars(symbol, interval, page, serverTimeMs, pageSignal),
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
          `${symbol} ${interval}: page ${index + 1}/${pages.length}, ${written} bars written`,
        );
      },
      signal,
    );
    throwIfAborted(signal);
    return await writer.finalize();
  } catch (error) {
    await writer.close().catch(() => {});
    if (signal?.aborted) throw abortError(signal, error);
    throw toMarketDataError(error, 'WRITER', `download of ${symbol} failed`, true);
  }
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
