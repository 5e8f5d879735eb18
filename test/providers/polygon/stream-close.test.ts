import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { MarketData } from '../../../src/core/types.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';
import { ohlcv } from './helpers.js';
import { collectUntil, expectExactly, perSymbol, provider, sim } from './stream-helpers.js';

const TUESDAY_1002_ET = Date.UTC(2024, 2, 5, 15, 2, 30);
const TUESDAY_1557_ET = Date.UTC(2024, 2, 5, 20, 57, 0);
/** PROTOCOLS.md has no figure for it; our grace is 5 s, plus the simulator's 50 ms tick. */
const ON_TIME_SLACK_MS = 3 * 60_000;

describe('Polygon aggregated bars on time and keyed as REST keys them (issue 14.6, 13.3)', () => {
  it('a quiet ticker’s bucket arrives at its end plus the grace, by the venue’s clock, with no later minute', async () => {
    // AAPL trades nothing after 16:00 ET; the 2h bucket 15:00–17:00 ET has no minute after 16:00.
    const simulator = await sim({
      speed: 600,
      start: TUESDAY_1557_ET,
      polygonTickers: ['AAPL'],
      polygonQuietAfterHours: ['AAPL'],
    });
    const polygon = provider(simulator, ['AAPL'], '2h');
    let arrivedAtMs = 0;
    const { bars, errors } = await collectUntil(
      polygon,
      (got) => got.length >= 1,
      () => {
        arrivedAtMs = simulator.clock.now();
      },
    );
    expect(errors).toEqual([]);
    const endMs = Date.UTC(2024, 2, 5, 22, 0);
    expect(bars[0]?.time.toISOString()).toBe('2024-03-05T20:00:00.000Z');
    expect(arrivedAtMs).toBeGreaterThanOrEqual(endMs);
    expect(arrivedAtMs).toBeLessThan(endMs + ON_TIME_SLACK_MS);
    expectExactly(simulator, bars, ['AAPL'], 2, 'hour');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  }, 30_000);

  it('streams 1d bars keyed at New York midnight that equal the downloaded day bars', async () => {
    const simulator = await sim({
      speed: 7200,
      start: TUESDAY_1557_ET,
      polygonTickers: ['AAPL'],
      polygonQuietAfterHours: ['AAPL'],
    });
    const polygon = provider(simulator, ['AAPL'], '1d');
    const { bars, errors } = await collectUntil(polygon, (got) => got.length >= 1);
    expect(errors).toEqual([]);
    // 00:00 EST (05:00 UTC), not 00:00 UTC: the New York trading date (March 5, or a later one
    // when a loaded machine subscribed after that day's close).
    expect(bars).toHaveLength(1);
    expect(bars[0]?.time.toISOString()).toMatch(/^2024-03-(0[5-9])T05:00:00\.000Z$/);
    const dir = mkdtempSync(join(tmpdir(), 'pg-day-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const writer = new MemoryWriter(join(dir, 'AAPL.json'));
    polygon.configWriter(writer);
    const day = bars[0] as MarketData;
    await polygon.download({
      ticker: 'AAPL',
      startDate: day.time,
      endDate: day.time,
      multiplier: 1,
      timespan: 'day',
    });
    expect(writer.rows.map((b) => b.time.toISOString())).toEqual([day.time.toISOString()]);
    expect(writer.rows.map(ohlcv)).toEqual([ohlcv(day)]);
    await simulator.stats.untilOpenConnections(0, 'polygon');
  }, 30_000);

  it('reports the forming bucket after each minute through setOnFormingBar, never in the iterator', async () => {
    const simulator = await sim({ speed: 1200, start: TUESDAY_1002_ET });
    const polygon = provider(simulator, ['AAPL', 'MSFT'], '5m');
    const forming: MarketData[] = [];
    polygon.setOnFormingBar((bar) => forming.push(bar));
    const { bars, errors } = await collectUntil(polygon, perSymbol(['AAPL', 'MSFT'], 3));
    expect(errors).toEqual([]);
    expectExactly(simulator, bars, ['AAPL', 'MSFT'], 5, 'minute');
    expect(forming.length).toBeGreaterThan(bars.length);
    for (const bar of bars.slice(1)) {
      // Every closed bucket after the first was seen forming, growing towards the closed bar.
      const seen = forming.filter(
        (f) => f.symbol === bar.symbol && f.time.getTime() === bar.time.getTime(),
      );
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]?.open).toBe(bar.open);
      for (const f of seen) expect(f.volume).toBeLessThanOrEqual(bar.volume);
    }
    // Forming bars are not closed bars: none of them was yielded as one.
    const yielded = new Set(bars.map((b) => `${b.symbol} ${b.time.getTime()} ${b.volume}`));
    const partial = forming.filter((f) => {
      const closed = bars.find(
        (b) => b.symbol === f.symbol && b.time.getTime() === f.time.getTime(),
      );
      return closed !== undefined && closed.volume !== f.volume;
    });
    expect(partial.length).toBeGreaterThan(0);
    for (const f of partial)
      expect(yielded.has(`${f.symbol} ${f.time.getTime()} ${f.volume}`)).toBe(false);
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });
});
