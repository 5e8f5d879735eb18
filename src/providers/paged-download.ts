import { abortError, throwIfAborted } from '../core/abort.js';
import { toMarketDataError } from '../core/errors.js';
import {
  isBatchWriter,
  type MarketData,
  type MarketDataWriter,
  type SizedDownloadParams,
} from '../core/types.js';
import { fetchPagesInOrder } from '../http/ordered-pages.js';

/** What a venue's download plans once its symbol is checked: the pages and how to fetch one. */
export interface PagePlan<P extends { count: number }> {
  /** Pages of open times up to the last CLOSED bar; `count` is the bars a page may hold. */
  pages: readonly P[];
  /** One page's closed bars, ascending. */
  fetch(page: P, signal: AbortSignal): Promise<MarketData[]>;
}

/**
 * The body every paged kline download shares (Binance, Bybit, OKX): initialize the writer, let
 * `plan` check the symbol and plan the pages (it may call the venue), fetch them `concurrency`
 * at a time, write them strictly in order (`writeBatch` when the writer has it), report progress
 * in expected bars, finalize, then close the writer (its temporary files, e.g. DuckDBWriter's
 * spill parts, go). On any failure or abort the writer is closed without finalize (no file) and
 * the promise rejects with a MarketDataError.
 */
export async function downloadPages<P extends { count: number }>(
  writer: MarketDataWriter,
  what: { symbol: string; interval: string },
  params: SizedDownloadParams,
  concurrency: number | (() => number),
  plan: (signal: AbortSignal | undefined) => Promise<PagePlan<P>>,
): Promise<string> {
  const { signal } = params;
  const label = `${what.symbol} ${what.interval}`;
  throwIfAborted(signal);
  await writer.initialize();
  try {
    const { pages, fetch } = await plan(signal);
    const total = pages.reduce((sum, page) => sum + page.count, 0);
    let current = 0;
    let written = 0;
    params.onProgress?.(0, total, `${label}: ${pages.length} pages to fetch`);
    await fetchPagesInOrder(
      pages,
      concurrency,
      (page, _index, pageSignal) => fetch(page, pageSignal),
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
          `${label}: page ${index + 1}/${pages.length}, ${written} bars written`,
        );
      },
      signal,
    );
    throwIfAborted(signal);
    const path = await writer.finalize();
    await writer.close().catch(() => {});
    return path;
  } catch (error) {
    await writer.close().catch(() => {});
    if (signal?.aborted) throw abortError(signal, error);
    throw toMarketDataError(error, 'WRITER', `download of ${what.symbol} failed`, true);
  }
}
