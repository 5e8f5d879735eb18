import type { Registry } from 'prom-client';
import type { Interval } from '../core/types.js';
import type { StreamHooks } from '../stream/engine-options.js';
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

/**
 * The engine's hooks of a stream whose engine yields minutes that are aggregated into larger
 * bars afterwards (Polygon above 1m): status, errors and gaps as usual, but bars are counted by
 * the provider on what it yields, so `argo_bars_total` counts bars of the stream's interval.
 */
export function engineHooksOfAggregated(
  metrics: StreamMetrics | undefined,
): StreamHooks | undefined {
  if (metrics === undefined) return undefined;
  return {
    bar: () => {},
    error: (error) => metrics.error(error),
    gap: (symbol) => metrics.gap(symbol),
    status: (status, detail) => metrics.status(status, detail),
    attach: (view) => metrics.attach(view),
  };
}
