import { describe, expect, it } from 'vitest';
import type { MarketData } from '../../../src/core/types.js';
import {
  AggregationFlow,
  MinuteAggregator,
} from '../../../src/providers/polygon/minute-aggregator.js';

const T0 = Date.UTC(2024, 2, 4, 14, 0);
const MIN = 60_000;

function minute(
  symbol: string,
  offsetMin: number,
  o: number,
  h: number,
  l: number,
  c: number,
  v: number,
): MarketData {
  return {
    id: '',
    symbol,
    time: new Date(T0 + offsetMin * MIN),
    open: o,
    high: h,
    low: l,
    close: c,
    volume: v,
  };
}

describe('MinuteAggregator', () => {
  it('builds 5m buckets: first open, last close, max high, min low, summed volume', () => {
    const aggregator = new MinuteAggregator('5m');
    expect(aggregator.add(minute('AAPL', 0, 10, 11, 9, 10.5, 100))).toBeUndefined();
    expect(aggregator.add(minute('AAPL', 1, 10.5, 12, 10, 11, 50))).toBeUndefined();
    // minute 2 had no trades: nothing arrives, nothing is invented
    expect(aggregator.add(minute('AAPL', 3, 11, 11.5, 8.5, 9, 25))).toBeUndefined();
    const done = aggregator.add(minute('AAPL', 5, 9, 9, 9, 9, 1));
    expect(done).toEqual({
      id: '',
      symbol: 'AAPL',
      time: new Date(T0),
      open: 10,
      high: 12,
      low: 8.5,
      close: 9,
      volume: 175,
    });
  });

  it('keeps symbols apart and ignores repeated or late minutes', () => {
    const aggregator = new MinuteAggregator('5m');
    aggregator.add(minute('AAPL', 0, 1, 1, 1, 1, 1));
    aggregator.add(minute('MSFT', 1, 5, 5, 5, 5, 5));
    aggregator.add(minute('AAPL', 0, 99, 99, 99, 99, 99));
    expect(aggregator.add(minute('AAPL', 6, 2, 2, 2, 2, 2))?.volume).toBe(1);
    expect(aggregator.add(minute('AAPL', 3, 7, 7, 7, 7, 7))).toBeUndefined();
    expect(aggregator.add(minute('MSFT', 10, 6, 6, 6, 6, 6))?.open).toBe(5);
  });

  it('flushes buckets that the watermark shows are over, and skips empty buckets', () => {
    const aggregator = new MinuteAggregator('1h');
    aggregator.add(minute('AAPL', 0, 1, 2, 0.5, 1.5, 10));
    aggregator.add(minute('MSFT', 58, 3, 3, 3, 3, 3));
    expect(aggregator.flushBefore(T0 + 59 * MIN)).toEqual([]);
    const flushed = aggregator.flushBefore(T0 + 60 * MIN);
    expect(flushed.map((bar) => bar.symbol).sort()).toEqual(['AAPL', 'MSFT']);
    expect(aggregator.flushBefore(T0 + 600 * MIN)).toEqual([]);
    // the next minute after a quiet hour opens a new bucket, not a bar for the quiet hour
    expect(aggregator.add(minute('AAPL', 180, 4, 4, 4, 4, 4))).toBeUndefined();
    expect(aggregator.flushBefore(T0 + 240 * MIN)[0]?.time).toEqual(new Date(T0 + 180 * MIN));
  });

  it('keys days, weeks and months as Polygon does: New York midnight, Sunday, the 1st (ET)', () => {
    const daily = new MinuteAggregator('1d');
    // 2024-03-06 01:00 UTC is still March 5 in New York.
    daily.add({ ...minute('AAPL', 0, 1, 1, 1, 1, 1), time: new Date(Date.UTC(2024, 2, 6, 1)) });
    expect(daily.flushBefore(Date.UTC(2024, 2, 6, 4, 59))).toEqual([]);
    expect(daily.flushBefore(Date.UTC(2024, 2, 6, 5))[0]?.time).toEqual(
      new Date(Date.UTC(2024, 2, 5, 5)),
    );
    const weekly = new MinuteAggregator('1w');
    weekly.add({ ...minute('AAPL', 0, 1, 1, 1, 1, 1), time: new Date(Date.UTC(2024, 2, 6, 15)) });
    const week = weekly.flushBefore(Date.UTC(2024, 2, 11));
    expect(week[0]?.time).toEqual(new Date(Date.UTC(2024, 2, 3, 5))); // Sunday 00:00 EST
    const monthly = new MinuteAggregator('1M');
    monthly.add({ ...minute('AAPL', 0, 1, 1, 1, 1, 1), time: new Date(Date.UTC(2024, 2, 1, 3)) });
    // March 1 03:00 UTC is February 29 in New York: February's bar, keyed 1 Feb 00:00 EST.
    expect(monthly.flushBefore(Date.UTC(2024, 2, 1, 5))[0]?.time).toEqual(
      new Date(Date.UTC(2024, 1, 1, 5)),
    );
  });

  it('closes a bucket at its last minute, without waiting for a later one', () => {
    const aggregator = new MinuteAggregator('5m');
    aggregator.add(minute('AAPL', 1, 1, 2, 1, 2, 1));
    expect(aggregator.forming('AAPL')).toMatchObject({ time: new Date(T0), close: 2 });
    expect(aggregator.add(minute('AAPL', 4, 2, 3, 2, 3, 1))).toMatchObject({
      time: new Date(T0),
      open: 1,
      close: 3,
      volume: 2,
    });
    expect(aggregator.forming('AAPL')).toBeUndefined();
  });

  it('closes a bucket from the venue’s REST minutes, unless a live minute closed it first', () => {
    const aggregator = new MinuteAggregator('5m');
    aggregator.add(minute('AAPL', 1, 1, 2, 1, 2, 1));
    const rest = [minute('AAPL', 1, 1, 2, 1, 2, 1), minute('AAPL', 3, 2, 5, 2, 4, 7)];
    expect(aggregator.closeFromRest('AAPL', T0 + 5 * MIN, rest)).toBeUndefined(); // not that bucket
    expect(aggregator.closeFromRest('AAPL', T0, rest)).toMatchObject({
      high: 5,
      close: 4,
      volume: 8,
    });
    expect(aggregator.closeFromRest('AAPL', T0, rest)).toBeUndefined(); // already emitted
    expect(aggregator.add(minute('AAPL', 4, 9, 9, 9, 9, 9))).toBeUndefined(); // late: ignored
  });
});

describe('MinuteAggregator guards', () => {
  it('never emits a bucket time twice, even when a late minute follows a watermark flush', () => {
    const aggregator = new MinuteAggregator('5m');
    aggregator.add(minute('AAPL', 0, 1, 1, 1, 1, 1));
    expect(aggregator.flushBefore(T0 + 5 * MIN)).toHaveLength(1);
    expect(aggregator.add(minute('AAPL', 4, 2, 2, 2, 2, 2))).toBeUndefined();
    expect(aggregator.flushBefore(T0 + 60 * MIN)).toEqual([]);
  });

  it('gives up a bucket whose minutes are known to be incomplete', () => {
    const aggregator = new MinuteAggregator('5m');
    aggregator.giveUpBucket('AAPL', T0 + 2 * MIN);
    expect(aggregator.add(minute('AAPL', 3, 1, 1, 1, 1, 1))).toBeUndefined();
    aggregator.add(minute('AAPL', 5, 2, 2, 2, 2, 2));
    expect(aggregator.flushBefore(T0 + 10 * MIN).map((b) => b.time.getTime())).toEqual([
      T0 + 5 * MIN,
    ]);
  });
});

describe('AggregationFlow', () => {
  it('closes a quiet symbol’s bucket from other symbols’ exchange time, one minute late', () => {
    const flow = new AggregationFlow('5m');
    flow.onMinute(minute('AAPL', 0, 1, 1, 1, 1, 1));
    flow.onMinute(minute('MSFT', 0, 5, 5, 5, 5, 5));
    // AAPL goes quiet. MSFT's minute 5 closes MSFT's own bucket; AAPL waits for the grace minute.
    expect(flow.onMinute(minute('MSFT', 5, 6, 6, 6, 6, 6)).map((b) => b.symbol)).toEqual(['MSFT']);
    expect(flow.onMinute(minute('MSFT', 6, 6, 6, 6, 6, 6)).map((b) => b.symbol)).toEqual(['AAPL']);
  });

  it('does not flush a symbol whose backfilled minutes are still to come', () => {
    const flow = new AggregationFlow('5m');
    flow.onMinute(minute('AAPL', 0, 1, 1, 1, 1, 1));
    flow.onMinute(minute('MSFT', 0, 5, 5, 5, 5, 5));
    // Reconnect: both backfills start; MSFT's comes out first and runs far ahead.
    flow.onBackfill('AAPL', 'started');
    flow.onBackfill('MSFT', 'started');
    const early: MarketData[] = [];
    for (let m = 1; m <= 9; m += 1) early.push(...flow.onMinute(minute('MSFT', m, 5, 5, 5, 5, 5)));
    flow.onBackfill('MSFT', 'done');
    early.push(...flow.onMinute(minute('MSFT', 10, 5, 5, 5, 5, 5)));
    expect(early.map((b) => b.symbol)).toEqual(['MSFT', 'MSFT']); // not AAPL: minutes 1–4 pending
    expect(flow.onMinute(minute('AAPL', 2, 2, 9, 0.5, 2, 2))).toEqual([]);
    expect(flow.onMinute(minute('AAPL', 3, 2, 2, 2, 3, 3))).toEqual([]);
    flow.onBackfill('AAPL', 'done');
    // Caught up: the next minute from anyone flushes AAPL's complete bucket, even an older one.
    const flushed = flow.onMinute(minute('MSFT', 10, 5, 5, 5, 5, 5));
    expect(flushed.map((b) => [b.symbol, b.time.getTime()])).toEqual([['AAPL', T0]]);
    expect(flushed[0]).toMatchObject({ open: 1, high: 9, low: 0.5, close: 3, volume: 6 });
  });

  it('a symbol stays held until its own backfill is done, whatever others do', () => {
    const flow = new AggregationFlow('5m');
    flow.onMinute(minute('AAPL', 0, 1, 1, 1, 1, 1));
    flow.onMinute(minute('MSFT', 0, 1, 1, 1, 1, 1));
    flow.onBackfill('AAPL', 'started');
    expect(flow.onMinute(minute('MSFT', 7, 1, 1, 1, 1, 1)).map((b) => b.symbol)).toEqual(['MSFT']);
    flow.onBackfill('AAPL', 'done');
    expect(flow.onMinute(minute('MSFT', 8, 1, 1, 1, 1, 1)).map((b) => b.symbol)).toEqual(['AAPL']);
  });
});
