// Where a Polygon bar ends (to tell a closed bar from an open one) and how many bars a range
// can hold at most, for a download's progress in bars before the bars are known.

import {
  nyDayStartMs,
  nyMonthStartMs,
  nyOffsetMs,
  nyWeekday,
  nyWeekStartMs,
} from '../../core/ny-calendar.js';
import type { DownloadParams, Timespan } from '../../core/types.js';
import { EXTENDED_HOURS_CLOSE_MINUTE, EXTENDED_HOURS_OPEN_MINUTE } from './protocol.js';

const MINUTE_MS = 60_000;

/** PROTOCOLS.md §2.2: second, minute and hour bars are fixed lengths on UTC boundaries. */
const FIXED_UNIT_MS: Partial<Record<Timespan, number>> = {
  second: 1000,
  minute: MINUTE_MS,
  hour: 60 * MINUTE_MS,
};

/**
 * End (exclusive) of the `multiplier` × `timespan` bar opening at `openMs`: a fixed length under
 * a day, else New York days, weeks or months (PROTOCOLS.md §2.2: day bars start at New York
 * midnight, weeks on Sunday, months on the 1st, so a day lasts 23 to 25 hours).
 */
export function barEndMs(multiplier: number, timespan: Timespan, openMs: number): number {
  const unitMs = FIXED_UNIT_MS[timespan];
  if (unitMs !== undefined) return openMs + unitMs * multiplier;
  if (timespan === 'day') return nyDayStartMs(openMs, multiplier);
  if (timespan === 'week') return nyWeekStartMs(openMs, multiplier);
  return nyMonthStartMs(openMs, multiplier);
}

/**
 * An upper bound on the bars opening in `[fromMs, toMs]`: bars under a day only where they
 * overlap 04:00–20:00 ET on a weekday, day bars only on weekdays (PROTOCOLS.md §2.4; holidays
 * are not known here, so they count). Used as a progress total until the real count is known.
 */
export function maxBarsBetween(
  multiplier: number,
  timespan: Timespan,
  fromMs: number,
  toMs: number,
): number {
  if (toMs < fromMs) return 0;
  const unitMs = FIXED_UNIT_MS[timespan];
  if (unitMs !== undefined) return maxFixedBars(unitMs * multiplier, fromMs, toMs);
  let count = 0;
  let openMs = firstCalendarOpenMs(timespan, fromMs);
  for (; openMs <= toMs; openMs = barEndMs(multiplier, timespan, openMs)) {
    const weekday = nyWeekday(openMs);
    if (timespan !== 'day' || multiplier > 1 || (weekday !== 0 && weekday !== 6)) count += 1;
  }
  return count;
}

function firstCalendarOpenMs(timespan: Timespan, fromMs: number): number {
  const start =
    timespan === 'day' ? nyDayStartMs : timespan === 'week' ? nyWeekStartMs : nyMonthStartMs;
  const openMs = start(fromMs);
  return openMs < fromMs ? start(fromMs, 1) : openMs;
}

/** UTC ms of `minute` minutes after New York midnight `dayMs` by the wall clock (DST days too). */
function wallClockMs(dayMs: number, minute: number): number {
  const naiveMs = dayMs + minute * MINUTE_MS;
  return naiveMs - (nyOffsetMs(naiveMs) - nyOffsetMs(dayMs));
}

/** Epoch-aligned slots of `barMs` opening in the range that overlap weekday extended hours. */
function maxFixedBars(barMs: number, fromMs: number, toMs: number): number {
  const firstSlot = Math.ceil(fromMs / barMs);
  const lastSlot = Math.floor(toMs / barMs);
  let counted = firstSlot - 1;
  let count = 0;
  for (let dayMs = nyDayStartMs(fromMs); dayMs <= toMs; dayMs = nyDayStartMs(dayMs, 1)) {
    const weekday = nyWeekday(dayMs);
    if (weekday === 0 || weekday === 6) continue;
    const openMs = wallClockMs(dayMs, EXTENDED_HOURS_OPEN_MINUTE);
    const closeMs = wallClockMs(dayMs, EXTENDED_HOURS_CLOSE_MINUTE);
    const low = Math.max(Math.floor(openMs / barMs), counted + 1);
    const high = Math.min(Math.ceil(closeMs / barMs) - 1, lastSlot);
    if (high >= low) {
      count += high - low + 1;
      counted = high;
    }
  }
  return count;
}

/**
 * Progress in bars: `current` is the bars written (monotonic), `total` the bars written plus an
 * upper bound for the windows still to come, so it settles on `current` when the last window is
 * in (Polygon skips minutes without trades, so the count is known only then).
 */
export class BarProgress {
  readonly #onProgress: DownloadParams['onProgress'];
  readonly #estimates: number[];
  #pendingMax: number;
  written = 0;

  constructor(onProgress: DownloadParams['onProgress'], estimates: number[]) {
    this.#onProgress = onProgress;
    this.#estimates = estimates;
    this.#pendingMax = estimates.reduce((sum, n) => sum + n, 0);
  }

  windowDone(index: number, bars: number): void {
    this.written += bars;
    this.#pendingMax -= this.#estimates[index] ?? 0;
  }

  report(message: string): void {
    if (this.#onProgress === undefined) return;
    try {
      this.#onProgress(this.written, this.written + Math.max(0, this.#pendingMax), message);
    } catch {
      // A throwing progress callback is the caller's bug; it must not break the download.
    }
  }
}
