import { describe, expect, it } from 'vitest';
import {
  isNyDayRange,
  nyDate,
  nyDayRangeMs,
  nyDayStartMs,
  nyMonthStartMs,
  nyWeekStartMs,
} from '../../src/core/ny-calendar.js';

const iso = (ms: number): string => new Date(ms).toISOString();

describe('New York calendar', () => {
  it('puts day starts at New York midnight on both sides of each DST change', () => {
    // PROTOCOLS.md §2.2's example day bar: t=1112331600000 = 2005-04-01 05:00 UTC (EST).
    expect(nyDayStartMs(1112331600000 + 12 * 3_600_000)).toBe(1112331600000);
    expect(iso(nyDayStartMs(Date.UTC(2024, 2, 10, 12)))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(nyDayStartMs(Date.UTC(2024, 2, 10, 12), 1))).toBe('2024-03-11T04:00:00.000Z');
    expect(iso(nyDayStartMs(Date.UTC(2024, 10, 3, 12)))).toBe('2024-11-03T04:00:00.000Z');
    expect(iso(nyDayStartMs(Date.UTC(2024, 10, 3, 12), 1))).toBe('2024-11-04T05:00:00.000Z');
    // 03:00 UTC is still the previous evening in New York.
    expect(iso(nyDayStartMs(Date.UTC(2024, 0, 10, 3)))).toBe('2024-01-09T05:00:00.000Z');
  });

  it('starts weeks on Sunday and months on the 1st, New York time', () => {
    expect(iso(nyWeekStartMs(Date.UTC(2024, 2, 13, 15)))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(nyWeekStartMs(Date.UTC(2024, 2, 13, 15), 1))).toBe('2024-03-17T04:00:00.000Z');
    expect(iso(nyMonthStartMs(Date.UTC(2024, 3, 1, 2)))).toBe('2024-03-01T05:00:00.000Z');
    expect(iso(nyMonthStartMs(Date.UTC(2024, 2, 15), 1))).toBe('2024-04-01T04:00:00.000Z');
    expect(iso(nyMonthStartMs(Date.UTC(2024, 11, 15), 1))).toBe('2025-01-01T05:00:00.000Z');
  });

  it('turns day strings into whole New York days, both ends included', () => {
    const { startMs, endMs } = nyDayRangeMs('2024-03-04', '2024-03-31');
    expect(iso(startMs)).toBe('2024-03-04T05:00:00.000Z');
    expect(iso(endMs)).toBe('2024-04-01T03:59:59.999Z');
    expect([nyDate(startMs), nyDate(endMs)]).toEqual(['2024-03-04', '2024-03-31']);
    expect(isNyDayRange(startMs, endMs)).toBe(true);
    expect(isNyDayRange(Date.UTC(2024, 2, 4), Date.UTC(2024, 2, 31, 23, 59, 59, 999))).toBe(false);
    expect(isNyDayRange(startMs, endMs - 60_000)).toBe(false);
  });
});
