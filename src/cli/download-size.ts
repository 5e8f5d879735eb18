// The notice the CLI prints before a very large download: how many bars and how long at best.

import { intervalMs } from '../core/intervals.js';
import type { Interval } from '../core/types.js';
import { DEFAULT_WEIGHT_LIMIT, KLINES_PAGE_LIMIT } from '../providers/binance/protocol.js';
import { AGGS_PAGE_LIMIT, FREE_TIER_REQUESTS_PER_MINUTE } from '../providers/polygon/protocol.js';

/** Our choice: downloads above this many bars get a size and time notice first. */
export const LARGE_DOWNLOAD_BARS = 10_000_000;

/** PROTOCOLS.md §1 REST endpoints table: `GET /api/v3/klines` costs weight 2 (up to 1,000 bars). */
const KLINES_PAGE_WEIGHT = 2;

/** The venue's ceiling in bars/s: Binance's weight budget; Polygon's free-tier request rate. */
export function barsPerSecCeiling(provider: string): number {
  if (provider === 'binance') {
    return ((DEFAULT_WEIGHT_LIMIT / 60) * KLINES_PAGE_LIMIT) / KLINES_PAGE_WEIGHT;
  }
  return (FREE_TIER_REQUESTS_PER_MINUTE / 60) * AGGS_PAGE_LIMIT;
}

/**
 * A one-line notice for a download of more than {@link LARGE_DOWNLOAD_BARS} bars (an upper
 * bound: every open time in the range), or undefined for a smaller one.
 */
export function largeDownloadNotice(
  provider: string,
  interval: Interval,
  startDate: Date,
  endDate: Date,
): string | undefined {
  const bars = Math.floor((endDate.getTime() - startDate.getTime()) / intervalMs(interval)) + 1;
  if (!(bars > LARGE_DOWNLOAD_BARS)) return undefined;
  const ceiling = barsPerSecCeiling(provider);
  const minutes = Math.ceil(bars / ceiling / 60);
  return (
    `note: up to ${bars.toLocaleString('en-US')} ${interval} bars; at ${provider}'s limit of ` +
    `${Math.round(ceiling).toLocaleString('en-US')} bars/s that takes at least ${minutes} min ` +
    `(memory stays flat; rows spill to the temporary directory). Ctrl-C stops it and writes no file.\n`
  );
}
