import { describe, expect, it } from 'vitest';
import { bucketStartMs, INTERVALS, nextBucketStartMs } from '../../src/core/intervals.js';
import { barOpenMs, isExchangeInterval, nextBarOpenMs } from '../../src/simulator/calendar.js';

// The simulator's calendar is written separately from the client's (core/intervals.ts), so a
// boundary either gets wrong shows up here as a disagreement, and the anchors come from
// PROTOCOLS.md §3.8 rather than from either implementation.
describe('simulator calendar', () => {
  it('puts weeks on Monday 00:00 UTC and months on the 1st (PROTOCOLS.md §3.8)', () => {
    // The docs' example weekly bar: Mon 2017-07-03.
    expect(barOpenMs('1w', 1499040000000)).toBe(1499040000000);
    expect(barOpenMs('1w', Date.UTC(2017, 6, 9, 23, 59, 59, 999))).toBe(1499040000000);
    expect(nextBarOpenMs('1w', 1499040000000)).toBe(Date.UTC(2017, 6, 10));
    expect(barOpenMs('1M', Date.UTC(2024, 1, 29, 12))).toBe(Date.UTC(2024, 1, 1));
    expect(nextBarOpenMs('1M', Date.UTC(2024, 1, 29, 12))).toBe(Date.UTC(2024, 2, 1));
    expect(nextBarOpenMs('1M', Date.UTC(2024, 11, 31))).toBe(Date.UTC(2025, 0, 1));
    expect(barOpenMs('3d', 259_200_000 * 7 + 5)).toBe(259_200_000 * 7);
    expect(isExchangeInterval('1M')).toBe(true);
    expect(isExchangeInterval('1mo')).toBe(false);
  });

  it('agrees with the client on every interval over 4000 times across 60 years', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const from = Date.UTC(1995, 0, 1);
    const span = Date.UTC(2055, 0, 1) - from;
    for (let i = 0; i < 4000; i++) {
      const t = from + Math.floor(random() * span);
      for (const interval of INTERVALS) {
        expect([interval, barOpenMs(interval, t)]).toEqual([interval, bucketStartMs(interval, t)]);
        expect([interval, nextBarOpenMs(interval, t)]).toEqual([
          interval,
          nextBucketStartMs(interval, t),
        ]);
      }
    }
  });
});
