import { describe, expect, it } from 'vitest';
import { INTERVALS, nextBucketStartMs } from '../../src/core/intervals.js';
import type { Interval } from '../../src/core/types.js';
import { createClock } from '../../src/simulator/clock.js';
import { Market, polygonBucketStartMs, type SimBar } from '../../src/simulator/market.js';

const NOW_MS = Date.UTC(2024, 2, 12, 15, 7, 31, 250); // a Tuesday, New York regular session

function aggregate(bars: SimBar[]): Omit<SimBar, 'openTimeMs'> {
  const first = bars[0] as SimBar;
  const last = bars[bars.length - 1] as SimBar;
  return {
    open: first.open,
    high: Math.max(...bars.map((b) => b.high)),
    low: Math.min(...bars.map((b) => b.low)),
    close: last.close,
    volume: bars.reduce((sum, b) => sum + b.volume, 0),
  };
}

function market(seed = 1, nowMs = NOW_MS): Market {
  return new Market(seed, createClock(nowMs, 1e-9));
}

const CHILD: Partial<Record<Interval, Interval>> = {
  '1m': '1s',
  '3m': '1m',
  '5m': '1m',
  '15m': '5m',
  '30m': '15m',
  '1h': '30m',
  '2h': '1h',
  '4h': '2h',
  '6h': '2h',
  '8h': '4h',
  '12h': '6h',
  '1d': '1h',
  '3d': '1d',
  '1w': '1d',
  '1M': '1d',
};

describe('market model', () => {
  it('keeps every Binance bar well-formed, positive and tick-exact', () => {
    const m = market();
    for (const interval of INTERVALS) {
      const spanMs =
        interval === '1s' ? 600_000 : interval.endsWith('m') ? 86_400_000 : 60 * 86_400_000;
      const bars = m.binanceBars('BTCUSDT', interval, NOW_MS - spanMs, NOW_MS);
      expect(bars.length).toBeGreaterThan(0);
      const bad = bars.filter(
        (bar) =>
          !(bar.low > 0) ||
          bar.low > Math.min(bar.open, bar.close) ||
          bar.high < Math.max(bar.open, bar.close) ||
          bar.volume < 0 ||
          [bar.open, bar.high, bar.low, bar.close, bar.volume].some(
            (value) => Number(value.toFixed(8)) !== value,
          ),
      );
      expect({ interval, bad }).toEqual({ interval, bad: [] });
    }
  });

  it('aggregates every Binance interval exactly from the next smaller one', () => {
    const m = market();
    for (const [interval, child] of Object.entries(CHILD) as [Interval, Interval][]) {
      const long = interval === '1M' || interval === '1w' || interval === '3d';
      const fromMs = NOW_MS - (long ? 70 : 1) * 86_400_000;
      const parents = m.binanceBars('ETHUSDT', interval, fromMs, NOW_MS);
      for (const parent of parents.slice(0, 3)) {
        const endMs =
          interval === '1s'
            ? parent.openTimeMs + 1000
            : nextBucketStartMs(interval, parent.openTimeMs);
        const children = m.binanceBars('ETHUSDT', child, parent.openTimeMs, endMs - 1);
        expect(children[0]?.openTimeMs).toBe(parent.openTimeMs);
        expect({ interval, ...aggregate(children) }).toEqual({
          interval,
          open: parent.open,
          high: parent.high,
          low: parent.low,
          close: parent.close,
          volume: parent.volume,
        });
      }
    }
  });

  it('gives the same bars for the same seed and different bars for another', () => {
    const fromMs = NOW_MS - 3_600_000;
    const a = market(7).binanceBars('BNBBTC', '1m', fromMs, NOW_MS);
    const b = market(7).binanceBars('BNBBTC', '1m', fromMs, NOW_MS);
    const c = market(8).binanceBars('BNBBTC', '1m', fromMs, NOW_MS);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(market(7).polygonBars('AAPL', 1, 'minute', fromMs, NOW_MS)).toEqual(
      market(7).polygonBars('AAPL', 1, 'minute', fromMs, NOW_MS),
    );
  });

  it('chains Binance bars: each open equals the previous close', () => {
    const bars = market().binanceBars('BTCUSDT', '1m', NOW_MS - 86_400_000, NOW_MS);
    for (let i = 1; i < bars.length; i++) expect(bars[i]?.open).toBe(bars[i - 1]?.close);
  });

  it('leaves Polygon minutes without trades out, more outside regular hours', () => {
    const m = market();
    const dayMs = Date.UTC(2024, 2, 11, 4); // Monday 00:00 New York (EDT)
    const minutes = m.polygonBars('MSFT', 1, 'minute', dayMs, dayMs + 86_400_000);
    const regular = minutes.filter(
      (b) => b.openTimeMs >= dayMs + 570 * 60_000 && b.openTimeMs < dayMs + 960 * 60_000,
    );
    expect(minutes.length).toBeLessThan(1440);
    expect(regular.length).toBeGreaterThan(330);
    expect(regular.length).toBeLessThan(390);
    expect(minutes.length - regular.length).toBeGreaterThan(150);
    expect(minutes.length - regular.length).toBeLessThan(300);
  });

  it('aggregates Polygon hours, New York days, weeks and months from existing minutes', () => {
    const m = market();
    const days = m.polygonBars('AAPL', 1, 'day', Date.UTC(2024, 2, 8), NOW_MS - 86_400_000);
    // Friday and Monday: no day bars on the weekend between (PROTOCOLS.md §2.4).
    expect(days.map((d) => new Date(d.openTimeMs).toISOString().slice(5, 13))).toEqual([
      '03-08T05',
      '03-11T04',
    ]);
    for (let i = 0; i + 1 < days.length; i++) {
      const day = days[i] as SimBar;
      const nextMs = (days[i + 1] as SimBar).openTimeMs;
      expect(new Date(day.openTimeMs).getUTCHours()).toBeGreaterThanOrEqual(4);
      expect(new Date(day.openTimeMs).getUTCHours()).toBeLessThanOrEqual(5);
      const minutes = m.polygonBars('AAPL', 1, 'minute', day.openTimeMs, nextMs - 1);
      expect(aggregate(minutes)).toEqual(aggregate([day]));
    }
    const week = m.polygonBars('AAPL', 1, 'week', Date.UTC(2024, 1, 4, 5), Date.UTC(2024, 1, 4, 5));
    expect(week).toHaveLength(1);
    expect(new Date(week[0]?.openTimeMs ?? 0).toISOString()).toBe('2024-02-04T05:00:00.000Z');
    const weekDays = m.polygonBars(
      'AAPL',
      1,
      'day',
      Date.UTC(2024, 1, 4, 5),
      Date.UTC(2024, 1, 11),
    );
    expect(aggregate(weekDays)).toEqual(aggregate(week));
    const hours = m.polygonBars(
      'AAPL',
      1,
      'hour',
      Date.UTC(2024, 2, 11, 14),
      Date.UTC(2024, 2, 11, 14),
    );
    const hourMinutes = m.polygonBars(
      'AAPL',
      1,
      'minute',
      Date.UTC(2024, 2, 11, 14),
      Date.UTC(2024, 2, 11, 14, 59),
    );
    expect(aggregate(hours)).toEqual(aggregate(hourMinutes));
    const seconds = m.polygonBars(
      'AAPL',
      1,
      'second',
      Date.UTC(2024, 2, 11, 14),
      Date.UTC(2024, 2, 11, 14, 0, 59),
    );
    expect(aggregate(seconds)).toEqual(aggregate(hourMinutes.slice(0, 1)));
  });

  it('serves a month of Binance 1m-derived bars fast (day cache)', () => {
    const started = performance.now();
    market().binanceBars('SOLUSDT', '1M', Date.UTC(2023, 0, 1), NOW_MS);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('Polygon calendar buckets', () => {
  it('starts quarters and years on New York midnight of their first month', () => {
    const mayMs = Date.UTC(2024, 4, 20);
    expect(new Date(polygonBucketStartMs(1, 'quarter', mayMs)).toISOString()).toBe(
      '2024-04-01T04:00:00.000Z',
    );
    expect(new Date(polygonBucketStartMs(1, 'year', mayMs)).toISOString()).toBe(
      '2024-01-01T05:00:00.000Z',
    );
    expect(new Date(polygonBucketStartMs(1, 'month', mayMs)).toISOString()).toBe(
      '2024-05-01T04:00:00.000Z',
    );
  });
});
