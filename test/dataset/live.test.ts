import { describe, expect, it, onTestFinished } from 'vitest';
import { LiveDataset } from '../../src/dataset/live.js';
import { listDataset, openDataset } from '../../src/dataset/read.js';
import { syncDataset } from '../../src/dataset/sync.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { tempDataset } from './helpers.js';

const MINUTE_MS = 60_000;

describe('LiveDataset (stream --dataset)', () => {
  it('syncs the gap since the last bar, then appends live bars: history and live meet without a hole', async () => {
    const sim = await startSimulator({ seed: 9, speed: 600 });
    onTestFinished(() => sim.close());
    const data = await tempDataset();
    const fromMs = Math.floor(sim.clock.now() / MINUTE_MS) * MINUTE_MS - 90 * MINUTE_MS;
    const restBaseUrl = sim.binance.restUrl;
    const first = await syncDataset({
      data,
      provider: 'binance',
      symbols: ['BTCUSDT'],
      interval: '1m',
      from: new Date(fromMs),
      providerOptions: { restBaseUrl },
    });
    const historyLastMs = Date.parse(first.symbols[0]?.last ?? '');
    // Let the venue close more bars before the stream starts: these are the gap to sync.
    await sim.clock.until(historyLastMs + 6 * MINUTE_MS);
    const live = await LiveDataset.open({
      data,
      provider: 'binance',
      interval: '1m',
      symbols: ['BTCUSDT'],
      providerOptions: { restBaseUrl },
    });
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1m',
      restBaseUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    const liveTimes: number[] = [];
    try {
      for await (const [bar, err] of provider.stream()) {
        if (err) continue;
        await live.write(bar);
        liveTimes.push(bar.time.getTime());
        if (liveTimes.length === 4) break;
      }
    } finally {
      await live.close();
    }
    const lastMs = liveTimes.at(-1) as number;
    const bars = await openDataset(data).read({
      provider: 'binance',
      interval: '1m',
      symbol: 'BTCUSDT',
    });
    const truth = sim.market.binanceBars('BTCUSDT', '1m', fromMs, lastMs);
    expect(bars.map((b) => b.time.getTime())).toEqual(truth.map((t) => t.openTimeMs));
    expect(bars.map((b) => b.close)).toEqual(truth.map((t) => t.close));
    expect(bars.length).toBeGreaterThan((first.symbols[0]?.bars as number) + 4);
    const [summary] = await listDataset(data);
    expect(summary?.gaps).toEqual([]);
    // A sync right after needs nothing before the last live bar.
    const after = await syncDataset({
      data,
      provider: 'binance',
      symbols: ['BTCUSDT'],
      interval: '1m',
      from: new Date(fromMs),
      providerOptions: { restBaseUrl },
    });
    expect(Date.parse(after.symbols[0]?.fetched[0]?.from ?? '')).toBe(lastMs + MINUTE_MS);
  });
});
