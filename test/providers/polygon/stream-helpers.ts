// Shared by the Polygon stream tests against the simulator: start one, build a provider on it,
// read until enough bars, and compare with the venue's own bars.

import { expect, onTestFinished } from 'vitest';
import type { MarketDataError } from '../../../src/core/errors.js';
import type { Interval, MarketData } from '../../../src/core/types.js';
import { PolygonProvider } from '../../../src/providers/polygon/provider.js';
import { type SimulatorOptions, startSimulator } from '../../../src/simulator/index.js';
import { ohlcv } from './helpers.js';

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

/** A simulator closed when the test ends. */
export async function sim(options: SimulatorOptions): Promise<Sim> {
  const simulator = await startSimulator({ seed: 7, polygonTickers: ['AAPL', 'MSFT'], ...options });
  onTestFinished(() => simulator.close());
  return simulator;
}

/** A provider on the simulator with short reconnect delays. */
export function provider(
  simulator: Sim,
  symbols: string[],
  interval: Interval,
  extra: Record<string, unknown> = {},
): PolygonProvider {
  return new PolygonProvider({
    symbols,
    interval,
    apiKey: simulator.polygon.apiKey,
    restBaseUrl: simulator.polygon.restUrl,
    wsBaseUrl: simulator.polygon.wsUrl.replace(/\/stocks$/, ''),
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    ...extra,
  });
}

export interface Collected {
  bars: MarketData[];
  errors: MarketDataError[];
}

/** Reads until `done(bars)`; `onBar` may inject faults. Ends at a fatal error too. */
export async function collectUntil(
  polygon: PolygonProvider,
  done: (bars: MarketData[]) => boolean,
  onBar?: (bar: MarketData, count: number) => void,
): Promise<Collected> {
  const bars: MarketData[] = [];
  const errors: MarketDataError[] = [];
  for await (const [bar, err] of polygon.stream()) {
    if (err) {
      errors.push(err);
      if (err.fatal) break;
      continue;
    }
    bars.push(bar);
    onBar?.(bar, bars.length);
    if (done(bars)) break;
  }
  return { bars, errors };
}

/** Until every one of `symbols` has `perSymbol` bars. */
export function perSymbol(symbols: string[], count: number): (bars: MarketData[]) => boolean {
  return (bars) => symbols.every((s) => bars.filter((b) => b.symbol === s).length >= count);
}

/** The venue's own bars over the span we received, per symbol: the exact expected sequence. */
export function expectExactly(
  simulator: Sim,
  bars: MarketData[],
  symbols: string[],
  multiplier: number,
  timespan: 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month',
): void {
  for (const symbol of symbols) {
    const got = bars.filter((b) => b.symbol === symbol);
    expect(got.length).toBeGreaterThan(0);
    const firstMs = got[0]?.time.getTime() ?? 0;
    const lastMs = got.at(-1)?.time.getTime() ?? 0;
    const expected = simulator.market.polygonBars(symbol, multiplier, timespan, firstMs, lastMs);
    expect(got.map((b) => b.time.toISOString())).toEqual(
      expected.map((b) => new Date(b.openTimeMs).toISOString()),
    );
    expect(got.map(ohlcv)).toEqual(expected.map(ohlcv));
  }
}
