// OKX candle rows (PROTOCOLS.md §6.2/§6.3: 9 strings, newest first) -> bars. Pure: no I/O.

import { MarketDataError } from '../../core/errors.js';
import { nextBucketStartMs } from '../../core/intervals.js';
import { decimal, isPlausibleOhlcv, venueBarId } from '../../core/ohlcv.js';
import type { Interval, MarketData } from '../../core/types.js';

const INTEGER = /^\d{1,16}$/;

/**
 * One candle row as a bar, or undefined when it is not 9 strings with an integer `ts` and
 * plausible OHLCV. `confirm` is index 8: the string "1" (PROTOCOLS.md §3.20: "0" is truthy).
 */
export function candleToBar(
  row: unknown,
  instId: string,
  interval: Interval,
): { bar: MarketData; confirmed: boolean } | undefined {
  if (!Array.isArray(row) || row.length < 9) return undefined;
  const ts = row[0];
  const confirm = row[8];
  if (typeof ts !== 'string' || !INTEGER.test(ts) || (confirm !== '0' && confirm !== '1')) {
    return undefined;
  }
  const openMs = Number(ts);
  const bar: MarketData = {
    id: venueBarId(instId, interval, openMs),
    symbol: instId,
    time: new Date(openMs),
    open: decimal(row[1]),
    high: decimal(row[2]),
    low: decimal(row[3]),
    close: decimal(row[4]),
    volume: decimal(row[5]),
  };
  if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) return undefined;
  return { bar, confirmed: confirm === '1' };
}

/** What a page must hold: rows of `instId` with `beforeMs < ts < afterMs` (both exclusive). */
export interface PageExpectation {
  instId: string;
  interval: Interval;
  afterMs: number;
  beforeMs: number;
  /** Bars closed by this venue time must come with `confirm` "1". */
  serverTimeMs: number;
}

/**
 * REST rows (newest first) → closed bars, ascending. Rows must be well-formed, strictly
 * newest first and inside the exclusive bounds, or a non-fatal `PROTOCOL` error is thrown (the
 * caller asks again). A bar still open at `serverTimeMs` is dropped; one that had closed but is
 * marked "0" is stale (a lagging cache, PROTOCOLS.md §6.2) and also a `PROTOCOL` error.
 */
export function rowsToBars(
  rows: readonly unknown[],
  expect: PageExpectation,
): { bars: MarketData[]; rowCount: number; oldestMs: number | undefined } {
  const bars: MarketData[] = [];
  let previousMs = expect.afterMs;
  for (const row of rows) {
    const parsed = candleToBar(row, expect.instId, expect.interval);
    const openMs = parsed?.bar.time.getTime();
    if (parsed === undefined || openMs === undefined || openMs >= previousMs) {
      throw badPage(expect.instId, 'a malformed or out-of-order row', row);
    }
    if (openMs <= expect.beforeMs) throw badPage(expect.instId, 'a row before `before`', row);
    previousMs = openMs;
    const closed = nextBucketStartMs(expect.interval, openMs) <= expect.serverTimeMs;
    if (!closed) continue;
    if (!parsed.confirmed) throw badPage(expect.instId, 'a closed bar marked "0" (stale)', row);
    bars.push(parsed.bar);
  }
  bars.reverse();
  return { bars, rowCount: rows.length, oldestMs: rows.length > 0 ? previousMs : undefined };
}

function badPage(instId: string, what: string, row: unknown): MarketDataError {
  const text = JSON.stringify(row) ?? String(row);
  return new MarketDataError(
    'PROTOCOL',
    `OKX candles for ${instId} contain ${what}: ${text.slice(0, 200)}`,
    { fatal: false },
  );
}
