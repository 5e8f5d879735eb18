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
