// Bybit kline rows -> closed bars, pure (PROTOCOLS.md §5.2: strings
// `[startTime, open, high, low, close, volume, turnover]`, newest first, forming bar included).

import { MarketDataError } from '../../core/errors.js';
import { nextBucketStartMs } from '../../core/intervals.js';
import { decimal, isPlausibleOhlcv, venueBarId } from '../../core/ohlcv.js';
import type { Interval, MarketData } from '../../core/types.js';

/**
 * Rows of one answer → the CLOSED bars with open time in `[fromMs, toMs]`, ascending. Rows must
 * come newest first with strictly decreasing integer start times and plausible prices, or the
 * answer is a non-fatal `PROTOCOL` error (retried by the caller). A bar is final only once
 * `start + interval ≤ serverTimeMs` (PROTOCOLS.md §3.18: REST has no `confirm`). Rows outside the
 * range are dropped, so inclusive and exclusive bounds both work ([unverified] which one Bybit has).
 */
export function rowsToClosedBars(
  rows: readonly unknown[],
  symbol: string,
  interval: Interval,
  serverTimeMs: number,
  fromMs: number,
  toMs: number,
): MarketData[] {
  const bars: MarketData[] = [];
  let previousMs = Number.POSITIVE_INFINITY;
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i];
    if (!Array.isArray(row)) throw badRow(symbol, row);
    const openMs = Number(row[0]);
    if (typeof row[0] !== 'string' || !Number.isInteger(openMs) || openMs < 0) {
      throw badRow(symbol, row);
    }
    // Walking oldest → newest, so each start must exceed the one before (i + 1).
    if (i < rows.length - 1 && openMs <= previousMs) throw badRow(symbol, row, 'not newest first');
    previousMs = openMs;
    if (openMs < fromMs || openMs > toMs) continue;
    if (nextBucketStartMs(interval, openMs) > serverTimeMs) break;
    const bar: MarketData = {
      id: venueBarId(symbol, interval, openMs),
      symbol,
      time: new Date(openMs),
      open: decimal(row[1]),
      high: decimal(row[2]),
      low: decimal(row[3]),
      close: decimal(row[4]),
      volume: decimal(row[5]),
    };
    if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
      throw badRow(symbol, row);
    }
    bars.push(bar);
  }
  return bars;
}

function badRow(symbol: string, row: unknown, why = 'malformed row'): MarketDataError {
  const text = JSON.stringify(row) ?? String(row);
  return new MarketDataError(
    'PROTOCOL',
    `Bybit kline for ${symbol}: ${why}: ${text.slice(0, 200)}`,
    { fatal: false },
  );
}
