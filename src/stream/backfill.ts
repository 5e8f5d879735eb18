import type { MarketData } from '../core/types.js';

/**
 * Open times strictly between the last yielded bar and the first live bar, i.e. the bars a
 * reconnect (or a skipped final update) made us miss. `nextOpenMs` steps one bar (months vary,
 * so it is a function, not a length). Exchange times only: no local clock is involved.
 */
export function missingOpenTimes(
  lastOpenMs: number,
  firstLiveOpenMs: number,
  nextOpenMs: (openMs: number) => number,
): number[] {
  const missing: number[] = [];
  for (let openMs = nextOpenMs(lastOpenMs); openMs < firstLiveOpenMs; openMs = nextOpenMs(openMs)) {
    missing.push(openMs);
  }
  return missing;
}

/** True when `openMs` is later than the bar right after `lastOpenMs`: at least one bar is missing. */
export function skipsBars(
  lastOpenMs: number,
  openMs: number,
  nextOpenMs: (openMs: number) => number,
): boolean {
  return openMs > nextOpenMs(lastOpenMs);
}

/**
 * Merge the live bars held back while a backfill ran into open-time order. Bars from an old
 * and a new socket can interleave; the dedup after this drops the repeats.
 */
export function orderHeldBars(held: MarketData[]): MarketData[] {
  return held.length < 2 ? held : held.sort((a, b) => a.time.getTime() - b.time.getTime());
}
