// Polygon's bucket keys (PROTOCOLS.md §2.2 "Bar windows"): under a day, UTC boundaries; a day
// starts at New York midnight, a week on Sunday 00:00 ET, a month on the 1st ET. The same New
// York calendar as the download (core/ny-calendar.ts), so streamed and downloaded bars share
// keys; the simulator has its own, so that a wrong boundary on either side fails a test.

import { bucketStartMs, nextBucketStartMs } from '../../core/intervals.js';
import { nyDayStartMs, nyMonthStartMs, nyWeekStartMs } from '../../core/ny-calendar.js';
import type { Interval } from '../../core/types.js';

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
  if (interval === '1d') return { start: (t) => nyDayStartMs(t), next: (t) => nyDayStartMs(t, 1) };
  if (interval === '1w')
    return { start: (t) => nyWeekStartMs(t), next: (t) => nyWeekStartMs(t, 1) };
  if (interval === '1M') {
    return { start: (t) => nyMonthStartMs(t), next: (t) => nyMonthStartMs(t, 1) };
  }
  return {
    start: (t) => bucketStartMs(interval, t),
    next: (t) => nextBucketStartMs(interval, t),
  };
}
