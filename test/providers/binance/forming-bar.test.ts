import { expect, it, onTestFinished } from 'vitest';
import type { MarketData } from '../../../src/core/types.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';

const MINUTE = 60_000;

it('reports the open bar to setOnFormingBar, never through the iterator', async () => {
  // Speed 120: a 1m bar closes every 0.5 s, and the simulator pushes the open bar in between.
  const sim = await startSimulator({ seed: 11, speed: 120, start: Date.now() - 3_600_000 });
  onTestFinished(() => sim.close());
  const provider = new BinanceProvider({
    symbols: ['BTCUSDT'],
    interval: '1m',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
  });
  const forming: MarketData[] = [];
  provider.setOnFormingBar((bar) => forming.push(bar));
  const closed: MarketData[] = [];
  for await (const [bar, err] of provider.stream()) {
    if (err) throw err;
    closed.push(bar);
    if (closed.length === 5) break;
  }
  provider.setOnFormingBar(undefined);

  const closedTimesMs = closed.map((bar) => bar.time.getTime());
  expect(closedTimesMs.slice(1).map((t, i) => t - (closedTimesMs[i] ?? 0))).toEqual([
    MINUTE,
    MINUTE,
    MINUTE,
    MINUTE,
  ]);
  // Every update is a bar that was still open: it closed later with the same open time and
  // open price, and its range and volume only grew until then.
  const byTimeMs = new Map(closed.map((bar) => [bar.time.getTime(), bar]));
  const matched = forming.filter((update) => byTimeMs.has(update.time.getTime()));
  expect(matched.length).toBeGreaterThan(0);
  for (const update of matched) {
    const final = byTimeMs.get(update.time.getTime()) as MarketData;
    expect(update.open).toBe(final.open);
    expect(update.high).toBeLessThanOrEqual(final.high);
    expect(update.low).toBeGreaterThanOrEqual(final.low);
    expect(update.volume).toBeLessThanOrEqual(final.volume);
  }
  // The others are bars that had not closed yet when the loop stopped.
  const unmatched = forming.filter((update) => !byTimeMs.has(update.time.getTime()));
  for (const update of unmatched) {
    expect(update.time.getTime()).toBeGreaterThan(closedTimesMs.at(-1) ?? 0);
  }
  await sim.stats.untilOpenConnections(0, 'binance');
});
