import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openDataset } from '../../src/dataset/read.js';
import { syncDataset } from '../../src/dataset/sync.js';
import { startSimulator } from '../../src/simulator/index.js';
import { tempDataset } from './helpers.js';

// New York midnight of a February date (EST, UTC-5).
const nyDay = (day: number) => Date.UTC(2024, 1, day, 5);

describe('Polygon series', () => {
  it('reports trading dates with no bar as gaps, not holidays or quiet minutes; ids are deterministic', async () => {
    const sim = await startSimulator({
      seed: 8,
      start: Date.UTC(2024, 2, 3),
      outages: [
        { venue: 'polygon', symbol: 'AAPL', from: nyDay(7), to: nyDay(8) - 1 },
        // Presidents' Day: the exchange is closed anyway, so no bar there is no gap.
        { venue: 'polygon', symbol: 'AAPL', from: nyDay(19), to: nyDay(20) - 1 },
      ],
    });
    onTestFinished(() => sim.close());
    const data = await tempDataset();
    const options = {
      data,
      provider: 'polygon' as const,
      symbols: ['AAPL', 'MSFT'],
      interval: '1m' as const,
      from: new Date(nyDay(5)),
      to: new Date(nyDay(22) - 1),
      providerOptions: { restBaseUrl: sim.polygon.restUrl, apiKey: sim.polygon.apiKey },
    };
    const summary = await syncDataset(options);
    expect(summary.failed).toEqual([]);
    expect(summary.symbols[0]?.gaps).toEqual([
      { from: '2024-02-07', to: '2024-02-07', missing: 1 },
    ]);
    expect(summary.symbols[1]?.gaps).toEqual([]);
    const bars = await openDataset(data).read({
      provider: 'polygon',
      interval: '1m',
      symbol: 'MSFT',
    });
    const truth = sim.market.polygonBars('MSFT', 1, 'minute', nyDay(5), nyDay(22) - 1);
    expect(bars.map((b) => b.time.getTime())).toEqual(truth.map((t) => t.openTimeMs));
    expect(bars[0]?.id).toBe(`MSFT-1m-${truth[0]?.openTimeMs}`);
    const before = sim.stats.httpRequests('polygon');
    const again = await syncDataset(options);
    expect(again.barsWritten).toBe(0);
    // Quiet minutes at the end of the range are not refetched: the range was bounded.
    expect(sim.stats.httpRequests('polygon') - before).toBe(0);
  });

  it('an unknown ticker (Polygon answers 200, no bars) is reported; the other completes', async () => {
    const sim = await startSimulator({ seed: 8, start: Date.UTC(2024, 2, 3) });
    onTestFinished(() => sim.close());
    const summary = await syncDataset({
      data: await tempDataset(),
      provider: 'polygon',
      symbols: ['AAPL', 'NOPE'],
      interval: '1h',
      from: new Date(nyDay(5)),
      to: new Date(nyDay(7)),
      providerOptions: { restBaseUrl: sim.polygon.restUrl, apiKey: sim.polygon.apiKey },
    });
    expect(summary.failed).toEqual(['NOPE']);
    expect(summary.symbols[1]?.error?.code).toBe('INVALID_SYMBOL');
    expect(summary.symbols[0]?.bars).toBeGreaterThan(10);
  });
});

describe('openDataset().read', () => {
  it('reads only the months of the range, in time order, bounds inclusive', async () => {
    const sim = await startSimulator({ seed: 2, start: Date.UTC(2024, 2, 3) });
    onTestFinished(() => sim.close());
    const data = await tempDataset();
    await syncDataset({
      data,
      provider: 'binance',
      symbols: ['ETHUSDT'],
      interval: '1h',
      from: new Date(Date.UTC(2024, 0, 20)),
      providerOptions: { restBaseUrl: sim.binance.restUrl },
    });
    // A broken January file does not matter to a February read: it is never opened.
    await writeFile(join(data, 'binance', '1h', 'ETHUSDT', '2024-01.parquet'), 'garbage');
    const from = new Date(Date.UTC(2024, 1, 27, 22));
    const to = new Date(Date.UTC(2024, 2, 1, 1));
    const bars = await openDataset(data).read({
      provider: 'binance',
      interval: '1h',
      symbol: 'ETHUSDT',
      from,
      to,
    });
    expect(bars.map((b) => b.time.toISOString())).toEqual(
      sim.market
        .binanceBars('ETHUSDT', '1h', from.getTime(), to.getTime())
        .map((t) => new Date(t.openTimeMs).toISOString()),
    );
    expect(bars).toHaveLength(52);
    expect(bars[0]).toEqual({
      id: `ETHUSDT-1h-${from.getTime()}`,
      symbol: 'ETHUSDT',
      time: from,
      open: expect.any(Number),
      high: expect.any(Number),
      low: expect.any(Number),
      close: expect.any(Number),
      volume: expect.any(Number),
    });
    await expect(
      openDataset(data).read({ provider: 'binance', interval: '1h', symbol: 'ETHUSDT', to: from }),
    ).rejects.toMatchObject({ code: 'WRITER' });
    await expect(
      openDataset(data).read({ provider: 'okx', interval: '1h', symbol: 'ETHUSDT' }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'provider' });
  });
});
