import { ConfigError } from './errors.js';
import type { DownloadParams, Interval, SizedDownloadParams, Timespan } from './types.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** 1970-01-01 was a Thursday; Binance weeks open Monday 00:00 UTC (PROTOCOLS.md §3.8). */
const MONDAY_OFFSET_MS = 4 * DAY_MS;

interface IntervalSpec {
  multiplier: number;
  timespan: Timespan;
  /** Fixed length in ms; months use their nominal 30 days only for estimates. */
  ms: number;
}

const SPECS: Record<Interval, IntervalSpec> = {
  '1s': { multiplier: 1, timespan: 'second', ms: SECOND_MS },
  '1m': { multiplier: 1, timespan: 'minute', ms: MINUTE_MS },
  '3m': { multiplier: 3, timespan: 'minute', ms: 3 * MINUTE_MS },
  '5m': { multiplier: 5, timespan: 'minute', ms: 5 * MINUTE_MS },
  '15m': { multiplier: 15, timespan: 'minute', ms: 15 * MINUTE_MS },
  '30m': { multiplier: 30, timespan: 'minute', ms: 30 * MINUTE_MS },
  '1h': { multiplier: 1, timespan: 'hour', ms: HOUR_MS },
  '2h': { multiplier: 2, timespan: 'hour', ms: 2 * HOUR_MS },
  '4h': { multiplier: 4, timespan: 'hour', ms: 4 * HOUR_MS },
  '6h': { multiplier: 6, timespan: 'hour', ms: 6 * HOUR_MS },
  '8h': { multiplier: 8, timespan: 'hour', ms: 8 * HOUR_MS },
  '12h': { multiplier: 12, timespan: 'hour', ms: 12 * HOUR_MS },
  '1d': { multiplier: 1, timespan: 'day', ms: DAY_MS },
  '3d': { multiplier: 3, timespan: 'day', ms: 3 * DAY_MS },
  '1w': { multiplier: 1, timespan: 'week', ms: 7 * DAY_MS },
  '1M': { multiplier: 1, timespan: 'month', ms: 30 * DAY_MS },
};

/** Every supported interval, shortest first. */
export const INTERVALS = Object.keys(SPECS) as Interval[];

/** Every supported timespan. */
export const TIMESPANS: readonly Timespan[] = ['second', 'minute', 'hour', 'day', 'week', 'month'];

/** True when `value` is one of {@link INTERVALS}. */
export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && Object.hasOwn(SPECS, value);
}

/** The interval's `(multiplier, timespan)` pair, as the Go `Timespan.Multiplier()/Timespan()`. */
export function intervalToTimespan(interval: Interval): { multiplier: number; timespan: Timespan } {
  const spec = SPECS[interval];
  return { multiplier: spec.multiplier, timespan: spec.timespan };
}

/**
 * The interval for `multiplier` × `timespan`, or a ConfigError (`INVALID_INTERVAL`) listing the
 * supported pairs when no such interval exists (e.g. `7 minute`, `2 week`).
 */
export function timespanToInterval(multiplier: number, timespan: Timespan): Interval {
  for (const interval of INTERVALS) {
    const spec = SPECS[interval];
    if (spec.multiplier === multiplier && spec.timespan === timespan) return interval;
  }
  const supported = INTERVALS.filter((i) => SPECS[i].timespan === timespan)
    .map((i) => SPECS[i].multiplier)
    .join(', ');
  throw new ConfigError(
    'multiplier',
    `unsupported bar size ${multiplier} ${timespan}: supported multipliers for '${timespan}' are ${
      supported || 'none'
    } (intervals: ${INTERVALS.join(' ')})`,
    { code: 'INVALID_INTERVAL' },
  );
}

/**
 * Nominal length in ms. Exact for everything but `1M`, whose months vary: use
 * {@link nextBucketStartMs} to step through months.
 */
export function intervalMs(interval: Interval): number {
  return SPECS[interval].ms;
}

/** UTC open time of the bar containing `timeMs` (weeks open Monday 00:00, months on the 1st). */
export function bucketStartMs(interval: Interval, timeMs: number): number {
  if (interval === '1M') {
    const date = new Date(timeMs);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  const lengthMs = SPECS[interval].ms;
  const offsetMs = interval === '1w' ? MONDAY_OFFSET_MS : 0;
  return Math.floor((timeMs - offsetMs) / lengthMs) * lengthMs + offsetMs;
}

/** Open time of the bar after the one that opens at (or contains) `timeMs`. */
export function nextBucketStartMs(interval: Interval, timeMs: number): number {
  const startMs = bucketStartMs(interval, timeMs);
  if (interval === '1M') {
    const date = new Date(startMs);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }
  return startMs + SPECS[interval].ms;
}

/** Close time (last ms, inclusive) of the bar containing `timeMs`, as Binance's `T`. */
export function bucketCloseMs(interval: Interval, timeMs: number): number {
  return nextBucketStartMs(interval, timeMs) - 1;
}

/** Open times of all bars whose open time lies in `[fromMs, toMs]`, in order. */
export function openTimesBetween(interval: Interval, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  let openMs = bucketStartMs(interval, fromMs);
  if (openMs < fromMs) openMs = nextBucketStartMs(interval, openMs);
  while (openMs <= toMs) {
    out.push(openMs);
    openMs = nextBucketStartMs(interval, openMs);
  }
  return out;
}

/**
 * `params` with a bar size: its own `multiplier`/`timespan`, or `interval` (the provider's) when
 * both are left out. One without the other is a ConfigError naming the missing one.
 */
export function withBarSize(params: DownloadParams, interval: Interval): SizedDownloadParams {
  const { multiplier, timespan } = params;
  if (multiplier === undefined && timespan === undefined) {
    return { ...params, ...intervalToTimespan(interval) };
  }
  if (multiplier === undefined || timespan === undefined) {
    const missing = multiplier === undefined ? 'multiplier' : 'timespan';
    throw new ConfigError(
      missing,
      `download params give ${missing === 'multiplier' ? 'timespan' : 'multiplier'} without ${missing}: give both, or neither for the provider's interval (${interval})`,
    );
  }
  return { ...params, multiplier, timespan };
}
