/**
 * True when five numbers can be a real bar: finite positive prices, a finite non-negative
 * volume, and a low that is not above the high. Anything else from a venue is a corrupt message,
 * not a bar to trade on.
 */
export function isPlausibleOhlcv(
  open: unknown,
  high: unknown,
  low: unknown,
  close: unknown,
  volume: unknown,
): boolean {
  return (
    isPositive(open) &&
    isPositive(high) &&
    isPositive(low) &&
    isPositive(close) &&
    typeof volume === 'number' &&
    Number.isFinite(volume) &&
    volume >= 0 &&
    low <= high
  );
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/**
 * Deterministic bar id shared by a venue's download and stream (Binance, Bybit, OKX), so the
 * same bar gets the same id from either: `BTCUSDT-1m-1672515780000`.
 */
export function venueBarId(symbol: string, interval: string, openMs: number): string {
  return `${symbol}-${interval}-${openMs}`;
}

/** A finite, non-negative number from a venue's decimal string; NaN otherwise. */
export function decimal(value: unknown): number {
  if (typeof value !== 'string' || value === '') return Number.NaN;
  const n = Number(value);
  // "Infinity" and "1e999" are numbers to Number(), but no price or volume.
  return Number.isFinite(n) && n >= 0 ? n : Number.NaN;
}
