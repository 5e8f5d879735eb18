// Downloads exact to the venue (issue 13: points 1–3 and 5, Polygon side): the range, the closed
// bars by the venue's clock, New York bar keys, progress in bars.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { nyDayRangeMs } from '../../../src/core/ny-calendar.js';
import type { MarketData, Timespan } from '../../../src/core/types.js';
import { planWindows } from '../../../src/providers/polygon/download.js';
import { PolygonProvider } from '../../../src/providers/polygon/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import type { SimBar } from '../../../src/simulator/market.js';
import { JsonLinesWriter, ohlcv } from './helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'polygon-exact-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

async function sim(startMs: number, speed = 1) {
  const simulator = await startSimulator({ seed: 21, speed, start: startMs });
  onTestFinished(() => simulator.close());
  return simulator;
}

type Sim = Awaited<ReturnType<typeof sim>>;

async function download(
  simulator: Sim,
  timespan: Timespan,
  startMs: number,
  endMs: number,
  extra: { multiplier?: number; onProgress?: (c: number, t: number, m: string) => void } = {},
): Promise<MarketData[]> {
  const polygon = new PolygonProvider({
    symbols: ['AAPL'],
    interval: '1m',
    apiKey: simulator.polygon.apiKey,
    restBaseUrl: simulator.polygon.restUrl,
  });
  const writer = new JsonLinesWriter(join(DIR, `${timespan}-${startMs}-${endMs}.jsonl`));
  polygon.configWriter(writer);
  await polygon.download({
    ticker: 'AAPL',
    startDate: new Date(startMs),
    endDate: new Date(endMs),
    multiplier: extra.multiplier ?? 1,
    timespan,
    ...(extra.onProgress ? { onProgress: extra.onProgress } : {}),
  });
  return writer.bars;
}

const times = (bars: Array<MarketData | SimBar>): string[] =>
  bars.map((b) => new Date('time' in b ? b.time.getTime() : b.openTimeMs).toISOString());

function aggregate(
  bars: Array<{ open: number; high: number; low: number; close: number; volume: number }>,
) {
  return [
    bars[0]?.open,
    Math.max(...bars.map((b) => b.high)),
    Math.min(...bars.map((b) => b.low)),
    bars.at(-1)?.close,
    bars.reduce((sum, b) => sum + b.volume, 0),
  ];
}

describe('Polygon download: closed bars only (venue clock)', () => {
  it('never writes the forming minute, the current hour or today’s day bar', async () => {
    const nowMs = Date.UTC(2024, 2, 8, 15, 0, 30); // Friday 10:00:30 New York, real-time speed
    const simulator = await sim(nowMs);
    const { startMs, endMs } = nyDayRangeMs('2024-03-04', '2024-03-08');
    const cases: Array<[Timespan, string]> = [
      ['minute', '2024-03-08T15:00:00.000Z'],
      ['hour', '2024-03-08T15:00:00.000Z'],
      ['day', '2024-03-08T05:00:00.000Z'],
    ];
    for (const [timespan, openBarIso] of cases) {
      const bars = await download(simulator, timespan, startMs, endMs);
      const truth = simulator.market.polygonBars('AAPL', 1, timespan, startMs, endMs);
      // The venue serves the still-open bar (PROTOCOLS.md §2.4)…
      expect(times(truth).at(-1)).toBe(openBarIso);
      // …and the download has every other bar, exactly, but not that one.
      const closed = truth.filter((b) => b.openTimeMs < Date.parse(openBarIso));
      expect(times(bars)).toEqual(times(closed));
      expect(bars.map(ohlcv)).toEqual(closed.map(ohlcv));
    }
    expect(simulator.clock.now()).toBeLessThan(Date.UTC(2024, 2, 8, 15, 1)); // still open throughout
  });
});

describe('Polygon download: the range', () => {
  it('requests whole New York days by day strings and gets their pre-market and after-hours', async () => {
    const simulator = await sim(Date.UTC(2024, 3, 2, 15));
    const { startMs, endMs } = nyDayRangeMs('2024-03-04', '2024-03-07');
    expect(planWindows(1, 'minute', startMs, endMs).map((w) => [w.from, w.to])).toEqual([
      ['2024-03-04', '2024-03-07'],
    ]);
    const long = nyDayRangeMs('2024-01-02', '2024-03-07');
    expect(planWindows(1, 'minute', long.startMs, long.endMs).map((w) => [w.from, w.to])).toEqual([
      ['2024-01-02', '2024-01-31'],
      ['2024-02-01', '2024-03-01'],
      ['2024-03-02', '2024-03-07'],
    ]);
    const bars = await download(simulator, 'minute', startMs, endMs);
    const truth = simulator.market.polygonBars('AAPL', 1, 'minute', startMs, endMs);
    expect(times(bars)).toEqual(times(truth));
    const openTimes = bars.map((b) => b.time.getTime());
    expect(Math.min(...openTimes)).toBeGreaterThanOrEqual(Date.UTC(2024, 2, 4, 9)); // 04:00 EST
    // Thursday after-hours runs to 20:00 EST = Friday 01:00 UTC: part of Thursday, New York time.
    expect(Math.max(...openTimes)).toBeGreaterThan(Date.UTC(2024, 2, 8, 0));
    expect(Math.max(...openTimes)).toBeLessThan(Date.UTC(2024, 2, 8, 1));
  });

  it('keeps Date ranges exact: no bar opening before startDate, though Polygon snaps back', async () => {
    const simulator = await sim(Date.UTC(2024, 3, 2, 15));
    const days = await download(
      simulator,
      'day',
      Date.UTC(2024, 2, 4, 12),
      Date.UTC(2024, 2, 6, 12),
    );
    expect(times(days)).toEqual(['2024-03-05T05:00:00.000Z', '2024-03-06T05:00:00.000Z']);
    const { startMs, endMs } = nyDayRangeMs('2024-01-01', '2024-01-31'); // Monday to Wednesday
    const weeks = await download(simulator, 'week', startMs, endMs);
    expect(times(weeks)).toEqual([
      '2024-01-07T05:00:00.000Z',
      '2024-01-14T05:00:00.000Z',
      '2024-01-21T05:00:00.000Z',
      '2024-01-28T05:00:00.000Z',
    ]);
    const minutes = await download(
      simulator,
      'minute',
      Date.UTC(2024, 2, 4, 14, 30),
      Date.UTC(2024, 2, 4, 15, 30),
    );
    const truth = simulator.market.polygonBars(
      'AAPL',
      1,
      'minute',
      Date.UTC(2024, 2, 4, 14, 30),
      Date.UTC(2024, 2, 4, 15, 30),
    );
    expect(times(minutes)).toEqual(times(truth));
    expect(times(minutes).at(-1)).toBe('2024-03-04T15:30:00.000Z'); // the end is included
  });
});

describe('Polygon download: New York bar keys', () => {
  it('keys day, week and month bars as Polygon does, each the aggregate of its days', async () => {
    const simulator = await sim(Date.UTC(2024, 6, 2, 15));
    const { startMs, endMs } = nyDayRangeMs('2024-01-01', '2024-06-30');
    const months = await download(simulator, 'month', startMs, endMs);
    expect(times(months)).toEqual([
      '2024-01-01T05:00:00.000Z',
      '2024-02-01T05:00:00.000Z',
      '2024-03-01T05:00:00.000Z',
      '2024-04-01T04:00:00.000Z', // EDT
      '2024-05-01T04:00:00.000Z',
      '2024-06-01T04:00:00.000Z',
    ]);
    const weeks = await download(simulator, 'week', startMs, endMs);
    const days = await download(simulator, 'day', startMs, endMs);
    expect(weeks).toHaveLength(25); // Sundays 2024-01-07 … 2024-06-23, and 06-30
    for (const [bars, i] of [
      [months, 1],
      [weeks, 9], // 2024-03-10: the week of the DST change
    ] as const) {
      const bar = bars[i] as MarketData;
      const fromMs = bar.time.getTime();
      const nextMs = (bars[i + 1] as MarketData).time.getTime();
      if (bars === weeks) expect(new Date(fromMs).getUTCDay()).toBe(0); // Sunday
      const inside = days.filter((d) => d.time.getTime() >= fromMs && d.time.getTime() < nextMs);
      expect(inside.length).toBeGreaterThan(3);
      expect(ohlcv(bar)).toEqual(aggregate(inside));
    }
    // The week of 2024-06-30 is still open on 2024-07-02, so it is not written.
    const truth = simulator.market
      .polygonBars('AAPL', 1, 'week', startMs, endMs)
      .filter((b) => b.openTimeMs >= startMs && b.openTimeMs < Date.UTC(2024, 5, 30));
    expect(weeks.map(ohlcv)).toEqual(truth.map(ohlcv));
  });
});

describe('Polygon download: progress', () => {
  it('counts bars, monotonically, and ends at the number written', async () => {
    const simulator = await sim(Date.UTC(2024, 3, 2, 15));
    const { startMs, endMs } = nyDayRangeMs('2024-01-02', '2024-03-07'); // three windows
    const calls: Array<[number, number]> = [];
    const bars = await download(simulator, 'minute', startMs, endMs, {
      onProgress: (current, total) => calls.push([current, total]),
    });
    expect(bars.length).toBeGreaterThan(20_000);
    expect(calls.length).toBeGreaterThanOrEqual(4); // start, three windows, done
    expect(calls[0]?.[0]).toBe(0);
    expect(calls.at(-1)).toEqual([bars.length, bars.length]);
    const currents = calls.map(([current]) => current);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    for (const [current, total] of calls) {
      expect(current).toBeLessThanOrEqual(total);
      expect(total).toBeGreaterThanOrEqual(bars.length); // an upper bound until the end
      expect(total).toBeLessThan(bars.length * 2); // …and a useful one
    }
  });
});
