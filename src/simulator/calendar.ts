// The exchange calendar the simulator serves, written from PROTOCOLS.md (§1.5 `interval`, §3.8
// alignment) and not shared with the client's `core/intervals.ts`: if either gets a boundary
// wrong, the two disagree and a test fails (STYLE.md: the simulator imports only core/types).

import type { Interval } from '../core/types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * PROTOCOLS.md §1.5: Binance's kline intervals (case-sensitive; `1M` is a month) and their
 * fixed lengths. `1w` and `1M` are calendar-aligned, so their lengths here are only nominal.
 */
const LENGTHS: Readonly<Record<Interval, number>> = {
  '1s': SECOND,
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
  '1M': 31 * DAY,
};

/** True for an interval Binance accepts (exact case). */
export function isExchangeInterval(value: unknown): value is Interval {
  return typeof value === 'string' && Object.hasOwn(LENGTHS, value);
}

/** Nominal length in ms (exact up to `1w`; a month is counted as its longest, 31 days). */
export function nominalLengthMs(interval: Interval): number {
  return LENGTHS[interval];
}

/**
 * UTC open time of the bar containing `timeMs` (PROTOCOLS.md §3.8): `1s`…`3d` at epoch
 * multiples, `1w` on the Monday 00:00 UTC at or before it, `1M` on the 1st of its month.
 */
export function barOpenMs(interval: Interval, timeMs: number): number {
  if (interval === '1M') {
    const d = new Date(timeMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  if (interval === '1w') {
    const midnight = timeMs - mod(timeMs, DAY);
    const daysSinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
    return midnight - daysSinceMonday * DAY;
  }
  return timeMs - mod(timeMs, LENGTHS[interval]);
}

/** Open time of the bar after the one containing `timeMs`. */
export function nextBarOpenMs(interval: Interval, timeMs: number): number {
  const openMs = barOpenMs(interval, timeMs);
  if (interval === '1M') {
    const d = new Date(openMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return openMs + LENGTHS[interval];
}

/** Non-negative remainder, so times before 1970 align like any other. */
function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
