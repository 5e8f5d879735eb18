import { describe, expect, it } from 'vitest';
import { MarketDataError } from '../../src/core/errors.js';
import {
  bucketCloseMs,
  bucketStartMs,
  INTERVALS,
  intervalMs,
  intervalToTimespan,
  nextBucketStartMs,
  openTimesBetween,
  timespanToInterval,
} from '../../src/core/intervals.js';

describe('intervals', () => {
  it('maps every interval to (multiplier, timespan) and back', () => {
    for (const interval of INTERVALS) {
      const { multiplier, timespan } = intervalToTimespan(interval);
      expect(timespanToInterval(multiplier, timespan)).toBe(interval);
    }
    expect(intervalToTimespan('15m')).toEqual({ multiplier: 15, timespan: 'minute' });
    expect(intervalToTimespan('4h')).toEqual({ multiplier: 4, timespan: 'hour' });
    expect(intervalToTimespan('1w')).toEqual({ multiplier: 1, timespan: 'week' });
    expect(intervalToTimespan('1M')).toEqual({ multiplier: 1, timespan: 'month' });
  });

  it('rejects combinations that have no interval, naming what is supported', () => {
    for (const [multiplier, timespan] of [
      [7, 'minute'],
      [2, 'week'],
      [0, 'second'],
      [2, 'month'],
    ] as const) {
      try {
        timespanToInterval(multiplier, timespan);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(MarketDataError);
        expect((error as MarketDataError).code).toBe('INVALID_INTERVAL');
        expect((error as MarketDataError).message).toContain(`${multiplier} ${timespan}`);
      }
    }
  });

  it('knows each length', () => {
    expect(intervalMs('1s')).toBe(1000);
    expect(intervalMs('3m')).toBe(180_000);
    expect(intervalMs('12h')).toBe(43_200_000);
    expect(intervalMs('3d')).toBe(259_200_000);
    expect(intervalMs('1w')).toBe(604_800_000);
  });

  it('aligns buckets in UTC, weeks on Monday and months on the 1st', () => {
    const t = Date.UTC(2024, 1, 29, 13, 47, 31, 250); // Thu 2024-02-29
    expect(bucketStartMs('1s', t)).toBe(Date.UTC(2024, 1, 29, 13, 47, 31));
    expect(bucketStartMs('15m', t)).toBe(Date.UTC(2024, 1, 29, 13, 45));
    expect(bucketStartMs('4h', t)).toBe(Date.UTC(2024, 1, 29, 12));
    expect(bucketStartMs('1d', t)).toBe(Date.UTC(2024, 1, 29));
    expect(bucketStartMs('1w', t)).toBe(Date.UTC(2024, 1, 26)); // Monday
    expect(new Date(bucketStartMs('1w', t)).getUTCDay()).toBe(1);
    expect(bucketStartMs('1M', t)).toBe(Date.UTC(2024, 1, 1));
    expect(nextBucketStartMs('1M', t)).toBe(Date.UTC(2024, 2, 1));
    expect(bucketCloseMs('1M', t)).toBe(Date.UTC(2024, 2, 1) - 1);
    // PROTOCOLS.md §1.5: the docs' example weekly bar 1499040000000 is Monday 2017-07-03.
    expect(bucketStartMs('1w', 1499040000000 + 3 * 86_400_000)).toBe(1499040000000);
    expect(bucketStartMs('1w', Date.UTC(2024, 1, 26))).toBe(Date.UTC(2024, 1, 26));
  });

  it('lists open times inclusive at both ends, stepping through calendar months', () => {
    expect(openTimesBetween('1m', 60_000, 180_000)).toEqual([60_000, 120_000, 180_000]);
    expect(openTimesBetween('1m', 60_001, 180_000)).toEqual([120_000, 180_000]);
    expect(openTimesBetween('1M', Date.UTC(2023, 11, 15), Date.UTC(2024, 2, 1))).toEqual([
      Date.UTC(2024, 0, 1),
      Date.UTC(2024, 1, 1),
      Date.UTC(2024, 2, 1),
    ]);
  });
});
