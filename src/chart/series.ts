import type { MarketData } from '../core/types.js';

/** One bar as the chart page draws it: open time in epoch ms, then OHLCV. */
export interface ChartBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A bar in the page's compact wire form. */
export function toChartBar(bar: MarketData): ChartBar {
  return {
    time: bar.time.getTime(),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  };
}

/**
 * The closed bars of one symbol, in open-time order, one per open time, at most `capacity` (the
 * oldest go first). History, live and backfilled bars all go through {@link upsert}, so the
 * series a page draws never misses a bar it was sent and never holds one twice.
 */
export class BarSeries {
  readonly #bars: ChartBar[] = [];

  constructor(private readonly capacity: number) {}

  /** Inserts `bar` in its place or replaces the bar of the same open time; true when it changed. */
  upsert(bar: ChartBar): boolean {
    const bars = this.#bars;
    const last = bars.at(-1);
    if (last === undefined || bar.time > last.time) {
      bars.push(bar);
      if (bars.length > this.capacity) bars.shift();
      return true;
    }
    const index = lowerBound(bars, bar.time);
    const existing = bars[index];
    if (existing !== undefined && existing.time === bar.time) {
      if (sameValues(existing, bar)) return false;
      bars[index] = bar;
      return true;
    }
    if (index === 0 && bars.length >= this.capacity) return false;
    bars.splice(index, 0, bar);
    if (bars.length > this.capacity) bars.shift();
    return true;
  }

  /** The newest closed bar's open time, if any. */
  lastTimeMs(): number | undefined {
    return this.#bars.at(-1)?.time;
  }

  /** A copy, oldest first. */
  snapshot(): ChartBar[] {
    return this.#bars.slice();
  }
}

function lowerBound(bars: readonly ChartBar[], timeMs: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bars[mid] as ChartBar).time < timeMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameValues(a: ChartBar, b: ChartBar): boolean {
  return (
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.close === b.close &&
    a.volume === b.volume
  );
}

/**
 * Decimals to show for prices around `price`: at least five significant digits, between 2 and 8
 * (BTCUSDT 43,000.12; BNBBTC 0.012345), when the venue's tick size is not known.
 */
export function priceDecimals(price: number): number {
  if (!(price > 0) || !Number.isFinite(price)) return 2;
  const digitsBeforePoint = Math.floor(Math.log10(price)) + 1;
  return Math.min(8, Math.max(2, 5 - digitsBeforePoint));
}
