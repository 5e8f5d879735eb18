// Polygon's bucket keys (PROTOCOLS.md §2.2 "Bar windows"): under a day, UTC boundaries; a day
// starts at New York midnight, a week on Sunday 00:00 ET, a month on the 1st ET. Written here,
// not shared with the simulator, so that a wrong boundary on either side fails a test.

import { bucketStartMs, nextBucketStartMs } from '../../core/intervals.js';
import type { Interval } from '../../core/types.js';

const HOUR_MS = 3_600_000;

const formatter = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
});

const offsetByHour = new Map<number, number>();

/** New York's offset from UTC at `timeMs` (−5 h or −4 h), cached per UTC hour. */
function nyOffsetMs(timeMs: number): number {
  const hour = Math.floor(timeMs / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset !== undefined) return offset;
  const parts = formatter.formatToParts(new Date(hour * HOUR_MS));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour')) - hour * HOUR_MS;
  if (offsetByHour.size > 10_000) offsetByHour.clear();
  offsetByHour.set(hour, offset);
  return offset;
}

/** UTC ms of New York midnight that starts the local date (`month` 0-based; may overflow). */
function nyMidnightMs(year: number, month: number, day: number): number {
  const asUtc = Date.UTC(year, month, day);
  // Midnight is never inside a DST change (those are at 02:00), so two steps settle it.
  const guess = asUtc - nyOffsetMs(asUtc + 5 * HOUR_MS);
  return asUtc - nyOffsetMs(guess);
}

/** The New York calendar date of `timeMs`. */
function nyDate(timeMs: number): { year: number; month: number; day: number; weekday: number } {
  const local = new Date(timeMs + nyOffsetMs(timeMs));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth(),
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
  };
}

/** Start and next start of a Polygon bucket of one interval. */
export interface BucketKeys {
  /** Start of the bucket that contains `timeMs`. */
  start(timeMs: number): number;
  /** Start of the bucket after the one that contains `timeMs`. */
  next(timeMs: number): number;
}

/**
 * Buckets as Polygon's REST aggregates of `interval` key them: `1d` New York midnight, `1w`
 * Sunday 00:00 ET, `1M` the 1st ET; shorter intervals (and `3d`, which Polygon does not
 * document) on UTC boundaries.
 */
export function polygonBucketKeys(interval: Interval): BucketKeys {
  if (interval === '1d') {
    return {
      start: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month, d.day);
      },
      next: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month, d.day + 1);
      },
    };
  }
  if (interval === '1w') {
    return {
      start: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month, d.day - d.weekday);
      },
      next: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month, d.day - d.weekday + 7);
      },
    };
  }
  if (interval === '1M') {
    return {
      start: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month, 1);
      },
      next: (t) => {
        const d = nyDate(t);
        return nyMidnightMs(d.year, d.month + 1, 1);
      },
    };
  }
  return {
    start: (t) => bucketStartMs(interval, t),
    next: (t) => nextBucketStartMs(interval, t),
  };
}
