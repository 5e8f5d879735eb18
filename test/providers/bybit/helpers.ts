import { onTestFinished } from 'vitest';
import { BybitProvider } from '../../../src/providers/bybit/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';

export type Sim = Awaited<ReturnType<typeof startSimulator>>;
export type BybitOptions = ConstructorParameters<typeof BybitProvider>[0];

/** A simulator closed when the test ends. */
export async function simulator(options: Parameters<typeof startSimulator>[0] = {}): Promise<Sim> {
  const sim = await startSimulator({ seed: 7, ...options });
  onTestFinished(() => sim.close());
  return sim;
}

/** A BybitProvider pointed at `sim`, with quick reconnects. */
export function bybit(sim: Sim, extra: Partial<BybitOptions> = {}): BybitProvider {
  return new BybitProvider({
    symbols: ['BTCUSDT', 'ETHUSDT'],
    interval: '1m',
    restBaseUrl: sim.bybit.restUrl,
    wsBaseUrl: sim.bybit.wsUrl,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    requestTimeoutMs: 5000,
    ...extra,
  });
}

/** The exchange's (REST ground truth) bars of `symbol` with open times in `[fromMs, toMs]`. */
export function truth(
  sim: Sim,
  symbol: string,
  interval: '1m' | '1h',
  fromMs: number,
  toMs: number,
) {
  return sim.market
    .binanceBars(symbol, interval, fromMs, toMs)
    .filter((b) => b.openTimeMs >= fromMs && b.openTimeMs <= toMs)
    .map((b) => ({
      openTimeMs: b.openTimeMs,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
    }));
}
