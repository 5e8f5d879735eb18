import type { MarketData, StreamResult } from '../../../src/core/types.js';

/** The fields an exchange bar and a yielded bar must agree on. */
export interface BarValues {
  openTimeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function valuesOf(bar: MarketData): BarValues {
  return {
    openTimeMs: bar.time.getTime(),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  };
}

/** Yielded bars of one symbol, in yield order. */
export function barsOf(results: readonly StreamResult[], symbol: string): BarValues[] {
  return results.flatMap(([bar]) =>
    bar !== undefined && bar.symbol === symbol ? [valuesOf(bar)] : [],
  );
}

/** Error codes yielded, in order. */
export function errorCodes(results: readonly StreamResult[]): string[] {
  return results.flatMap(([, err]) => (err === undefined ? [] : [`${err.code}:${err.fatal}`]));
}
