import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { PolygonProvider } from '../../src/providers/polygon/provider.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { readParquetBars } from '../../src/writers/parquet-reader.js';

let dir: string;
let sim: Simulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'argo-default-interval-'));
  sim = await startSimulator({ seed: 3, speed: 1 });
});
afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const HOUR_MS = 3_600_000;

function steps(times: Date[]): number[] {
  return times.slice(1).map((t, i) => t.getTime() - (times[i] as Date).getTime());
}

describe("download() without multiplier/timespan uses the provider's interval", () => {
  it('Binance', async () => {
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1h',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    provider.configWriter(new DuckDBWriter(join(dir, 'binance.parquet')));
    const path = await provider.download({
      ticker: 'BTCUSDT',
      startDate: new Date('2024-03-01T00:00:00Z'),
      endDate: new Date('2024-03-01T05:00:00Z'),
    });
    const bars = await readParquetBars(path);
    expect(bars.map((b) => b.id)).toEqual(
      [0, 1, 2, 3, 4, 5].map(
        (h) => `BTCUSDT-1h-${Date.parse('2024-03-01T00:00:00Z') + h * HOUR_MS}`,
      ),
    );
  });

  it('Polygon', async () => {
    const provider = new PolygonProvider({
      symbols: ['AAPL'],
      interval: '1h',
      apiKey: sim.polygon.apiKey,
      restBaseUrl: sim.polygon.restUrl,
      wsBaseUrl: sim.polygon.wsUrl,
    });
    provider.configWriter(new DuckDBWriter(join(dir, 'polygon.parquet')));
    const path = await provider.download({
      ticker: 'AAPL',
      startDate: new Date('2024-03-04T14:00:00Z'),
      endDate: new Date('2024-03-04T18:00:00Z'),
    });
    const bars = await readParquetBars(path);
    expect(bars.length).toBeGreaterThan(1);
    expect(new Set(steps(bars.map((b) => b.time)))).toEqual(new Set([HOUR_MS]));
  });

  it('one of the two without the other is a ConfigError naming the missing one', async () => {
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1h',
      restBaseUrl: sim.binance.restUrl,
    });
    provider.configWriter(new DuckDBWriter(join(dir, 'half.parquet')));
    await expect(
      provider.download({
        ticker: 'BTCUSDT',
        startDate: new Date('2024-03-01T00:00:00Z'),
        endDate: new Date('2024-03-01T05:00:00Z'),
        multiplier: 1,
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'timespan' });
  });
});
