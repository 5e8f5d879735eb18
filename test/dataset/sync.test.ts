import { describe, expect, it, onTestFinished } from 'vitest';
import { openDataset } from '../../src/dataset/read.js';
import { syncDataset } from '../../src/dataset/sync.js';
import { startSimulator } from '../../src/simulator/index.js';
import { datasetRows, filesUnder, tempDataset } from './helpers.js';

const HOUR_MS = 3_600_000;
// The simulated venue's clock starts here, so month boundaries fall inside the tests' ranges.
const SIM_START_MS = Date.UTC(2024, 2, 3, 12, 0, 0);

async function simulator(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator({ seed: 11, start: SIM_START_MS, ...options });
  onTestFinished(() => sim.close());
  return sim;
}

describe('syncDataset (Binance)', () => {
  it('writes one file per UTC month, ordered, equal to the venue; a second run costs one request per symbol', async () => {
    const sim = await simulator();
    const data = await tempDataset();
    const symbols = ['BTCUSDT', 'ETHUSDT', 'LTCUSDT'];
    const from = new Date(Date.UTC(2024, 0, 28));
    const options = {
      data,
      provider: 'binance' as const,
      symbols,
      interval: '1h' as const,
      from,
      providerOptions: { restBaseUrl: sim.binance.restUrl },
    };
    const first = await syncDataset(options);
    expect(first.failed).toEqual([]);
    expect(await filesUnder(data)).toEqual(
      symbols
        .flatMap((s) =>
          ['2024-01', '2024-02', '2024-03'].map((m) => `binance/1h/${s}/${m}.parquet`),
        )
        .sort(),
    );
    // The last closed bar is the one before the bar containing the venue's now.
    const lastClosedMs = Math.floor(SIM_START_MS / HOUR_MS) * HOUR_MS - HOUR_MS;
    for (const symbol of symbols) {
      const bars = await openDataset(data).read({ provider: 'binance', interval: '1h', symbol });
      const truth = sim.market.binanceBars(symbol, '1h', from.getTime(), lastClosedMs);
      expect(bars.map((b) => b.time.getTime())).toEqual(truth.map((t) => t.openTimeMs));
      expect(bars.map((b) => b.close)).toEqual(truth.map((t) => t.close));
      expect(bars[0]?.id).toBe(`${symbol}-1h-${from.getTime()}`);
      const summary = first.symbols.find((s) => s.symbol === symbol);
      expect(summary?.bars).toBe(truth.length);
      expect(summary?.gaps).toEqual([]);
      expect(summary?.barsWritten).toBe(truth.length);
    }
    const before = sim.stats.httpRequests('binance');
    const second = await syncDataset(options);
    expect(sim.stats.httpRequests('binance') - before).toBe(symbols.length);
    expect(second.barsWritten).toBe(0);
    expect(second.symbols.map((s) => s.bars)).toEqual(first.symbols.map((s) => s.bars));
  });

  it('fills a hole before the stored range and after it, fetching only those', async () => {
    const sim = await simulator();
    const data = await tempDataset();
    const base = {
      data,
      provider: 'binance' as const,
      symbols: ['BTCUSDT'],
      interval: '1h' as const,
      providerOptions: { restBaseUrl: sim.binance.restUrl },
    };
    // First only February, then the whole range from mid-January to now.
    await syncDataset({
      ...base,
      from: new Date(Date.UTC(2024, 1, 1)),
      to: new Date(Date.UTC(2024, 1, 29, 23)),
    });
    const clean = await tempDataset();
    const summary = await syncDataset({ ...base, from: new Date(Date.UTC(2024, 0, 15)) });
    expect(summary.symbols[0]?.fetched).toEqual([
      { from: '2024-01-15T00:00:00.000Z', to: '2024-01-31T23:59:59.999Z' },
      { from: '2024-03-01T00:00:00.000Z', to: expect.any(String) },
    ]);
    await syncDataset({ ...base, data: clean, from: new Date(Date.UTC(2024, 0, 15)) });
    expect(await datasetRows(data, 'binance', '1h', ['BTCUSDT'])).toEqual(
      await datasetRows(clean, 'binance', '1h', ['BTCUSDT']),
    );
    expect(await filesUnder(data)).toEqual(await filesUnder(clean));
  });

  it('reports a venue outage as a gap and does not refetch it', async () => {
    const outageFrom = Date.UTC(2024, 1, 10, 5);
    const outageTo = Date.UTC(2024, 1, 10, 7, 59);
    const sim = await simulator({
      outages: [{ venue: 'binance', from: outageFrom, to: outageTo }],
    });
    const data = await tempDataset();
    const options = {
      data,
      provider: 'binance' as const,
      symbols: ['BTCUSDT'],
      interval: '1h' as const,
      from: new Date(Date.UTC(2024, 1, 1)),
      to: new Date(Date.UTC(2024, 1, 20)),
      providerOptions: { restBaseUrl: sim.binance.restUrl },
    };
    const first = await syncDataset(options);
    expect(first.symbols[0]?.gaps).toEqual([
      { from: '2024-02-10T05:00:00.000Z', to: '2024-02-10T07:00:00.000Z', missing: 3 },
    ]);
    const before = sim.stats.httpRequests('binance');
    const second = await syncDataset(options);
    expect(second.symbols[0]?.fetched).toEqual([]);
    expect(sim.stats.httpRequests('binance') - before).toBe(0);
    expect(second.symbols[0]?.gaps).toEqual(first.symbols[0]?.gaps);
  });

  it('reports an unknown symbol among others, which complete', async () => {
    const sim = await simulator();
    const data = await tempDataset();
    const summary = await syncDataset({
      data,
      provider: 'binance',
      symbols: ['BTCUSDT', 'NOSUCHCOIN', 'ETHUSDT', 'bad/symbol'],
      interval: '1d',
      from: new Date(Date.UTC(2024, 0, 1)),
      providerOptions: { restBaseUrl: sim.binance.restUrl },
    });
    expect(summary.failed).toEqual(['NOSUCHCOIN', 'BAD/SYMBOL']);
    const bySymbol = Object.fromEntries(summary.symbols.map((s) => [s.symbol, s]));
    expect(bySymbol.NOSUCHCOIN?.error?.code).toBe('INVALID_SYMBOL');
    expect(bySymbol['BAD/SYMBOL']?.error?.code).toBe('INVALID_SYMBOL');
    expect(bySymbol.BTCUSDT?.status).toBe('ok');
    expect(bySymbol.ETHUSDT?.bars).toBe(62);
    expect(await filesUnder(data)).toEqual([
      'binance/1d/BTCUSDT/2024-01.parquet',
      'binance/1d/BTCUSDT/2024-02.parquet',
      'binance/1d/BTCUSDT/2024-03.parquet',
      'binance/1d/ETHUSDT/2024-01.parquet',
      'binance/1d/ETHUSDT/2024-02.parquet',
      'binance/1d/ETHUSDT/2024-03.parquet',
    ]);
  });
});
