import { describe, expect, it } from 'vitest';
import { polygonBucketKeys } from '../../../src/providers/polygon/ny-calendar.js';
import { polygonBucketStartMs, polygonNextBucketMs } from '../../../src/simulator/market.js';

const iso = (ms: number): string => new Date(ms).toISOString();

describe('Polygon bucket keys of the stream’s local aggregation (issue 13.3)', () => {
  it('key 1d at New York midnight, 1w on Sunday 00:00 ET, 1M on the 1st ET, across DST', () => {
    const day = polygonBucketKeys('1d');
    const week = polygonBucketKeys('1w');
    const month = polygonBucketKeys('1M');
    expect(iso(day.start(Date.parse('2024-03-11T03:59:00Z')))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(day.start(Date.parse('2024-03-11T04:00:00Z')))).toBe('2024-03-11T04:00:00.000Z');
    expect(iso(day.next(Date.parse('2024-03-10T12:00:00Z')))).toBe('2024-03-11T04:00:00.000Z');
    expect(iso(week.start(Date.parse('2024-03-13T15:00:00Z')))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(week.next(Date.parse('2024-03-13T15:00:00Z')))).toBe('2024-03-17T04:00:00.000Z');
    expect(iso(month.start(Date.parse('2024-03-01T04:59:00Z')))).toBe('2024-02-01T05:00:00.000Z');
    expect(iso(month.start(Date.parse('2024-03-01T05:00:00Z')))).toBe('2024-03-01T05:00:00.000Z');
    expect(iso(month.next(Date.parse('2024-10-15T00:00:00Z')))).toBe('2024-11-01T04:00:00.000Z');
  });

  it('agree with the simulator’s REST keys every 7 h 1 min over two years', () => {
    const cases = [
      ['1d', 'day'],
      ['1w', 'week'],
      ['1M', 'month'],
      ['5m', 'minute'],
      ['1h', 'hour'],
    ] as const;
    for (const [interval, timespan] of cases) {
      const keys = polygonBucketKeys(interval);
      const multiplier = interval === '5m' ? 5 : 1;
      const ours: string[] = [];
      const venue: string[] = [];
      for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2025, 0, 1); t += 7 * 3_600_000 + 60_000) {
        const start = polygonBucketStartMs(multiplier, timespan, t);
        ours.push(`${iso(keys.start(t))} ${iso(keys.next(t))}`);
        venue.push(`${iso(start)} ${iso(polygonNextBucketMs(multiplier, timespan, start))}`);
      }
      expect(ours).toEqual(venue);
    }
  });
});
