import { foldSymbol, symbolProblem } from '../../config/symbols.js';
import { abortError, throwIfAborted } from '../../core/abort.js';
import { downloadRangeMs } from '../../core/download-range.js';
import { MarketDataError, toMarketDataError, writerNotConfigured } from '../../core/errors.js';
import { bucketStartMs, timespanToInterval } from '../../core/intervals.js';
import {
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
} from '../../core/types.js';
import { fetchPagesInOrder } from '../../http/ordered-pages.js';
import { type BinanceRest, planKlinePages } from './rest.js';

/**
 * Download klines of `params.ticker` into `writer` (PROTOCOLS.md §1.5, §3.1–3.2): check the
 * symbol (exchangeInfo, which also gives the weight limit and the server time), plan pages of
 * 1000 open times up to the last CLOSED bar, fetch them `concurrency` at a time, write them
 * strictly in order (`writeBatch` when the writer has it), report progress in expected bars,
 * finalize, then close the writer (its temporary files go). On any failure or abort the writer is
 * closed without finalize (no file) and the promise rejects with a MarketDataError.
 */
export async function downloadKlines(
  rest: BinanceRest,
  writer: MarketDataWriter | undefined,
  params: SizedDownloadParams,
  concurrency: number | (() => number),
): Promise<string> {
  if (writer === undefined) throw writerNotConfigured();
  const { signal } = params;
  const symbol = checkTicker(params.ticker);
  const interval = timespanToInterval(params.multiplier, params.timespan);
  const { startMs, endMs } = downloadRangeMs(params);
  throwIfAborted(signal);
  await writer.initialize();
  try {
    const info = await rest.exchangeInfo({ symbol }, signal);
    if (!info.symbols?.some((s) => s.symbol === symbol)) {
      throw new MarketDataError('INVALID_SYMBOL', `Binance does not list ${symbol}`, {
        fatal: true,
      });
    }
    const serverTimeMs = info.serverTime ?? (await rest.serverTimeMs(signal));
    // The bar containing serverTime is still open; the one before it is the last closed bar.
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
    const path = await writer.finalize();
    // As on Polygon: the writer's temporary data (DuckDBWriter's spill parts) goes now.
    await writer.close().catch(() => {});
    return path;
  } catch (error) {
    await writer.close().catch(() => {});
    if (signal?.aborted) throw abortError(signal, error);
    throw toMarketDataError(error, 'WRITER', `download of ${symbol} failed`, true);
  }
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
