import type { Registry } from 'prom-client';
import type { Interval } from '../core/types.js';
import { StreamMetrics } from './stream-metrics.js';

/** The library's `metrics` option: a prom-client Registry the caller owns and exposes. */
export interface MetricsOption {
  /** Register this stream's `argo_*` series here; default: nothing is measured or registered. */
  metrics?: Registry | undefined;
  /** Per-symbol series cap (default 1,000); symbols past it share `symbol="_other"`. */
  maxSymbolSeries?: number | undefined;
}

/** Splits the `metrics` option off a provider's options (its zod schema is strict). */
export function takeMetricsOption<T extends object>(
  options: T,
): { rest: T; metrics?: Registry | undefined; maxSymbolSeries?: number | undefined } {
  if (typeof options !== 'object' || options === null || !('metrics' in options)) {
    return { rest: options };
  }
  const { metrics, maxSymbolSeries, ...rest } = options as T & MetricsOption;
  return { rest: rest as T, metrics, maxSymbolSeries };
}

/** The stream's metrics when a registry was given. */
export function streamMetricsFor(
  venue: string,
  interval: Interval,
  registry: Registry | undefined,
  maxSymbolSeries: number | undefined,
): StreamMetrics | undefined {
  if (registry === undefined) return undefined;
  return new StreamMetrics({
    registry,
    venue,
    interval,
    ...(maxSymbolSeries === undefined ? {} : { maxSymbolSeries }),
  });
}
