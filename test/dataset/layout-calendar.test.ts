import { describe, expect, it } from 'vitest';
import { monthKeysBetween, symbolDirName, symbolFromDirName } from '../../src/dataset/layout.js';
import { mergeRanges, subtractRanges } from '../../src/dataset/ranges.js';
import { isTradingDate, nyMidnightMs, nyseHolidays } from '../../src/dataset/us-calendar.js';

describe('layout', () => {
  it('escapes what a path cannot hold, reversibly', () => {
    expect(symbolDirName('BTCUSDT')).toBe('BTCUSDT');
    expect(symbolDirName('BRK.B')).toBe('BRK.B');
    expect(symbolDirName('..')).toBe('%2E%2E');
    expect(symbolDirName('.hidden')).toBe('%2Ehidden');
    expect(symbolDirName('A/B%C')).toBe('A%2FB%25C');
    expect(symbolDirName('这是测试币456')).toBe(encodeURIComponent('这是测试币456'));
    for (const symbol of ['BTCUSDT', 'BRK.B', '..', 'A/B%C', '这是测试币456', 'a b', 'X.']) {
      expect(symbolFromDirName(symbolDirName(symbol))).toBe(symbol);
    }
    expect(symbolFromDirName('%2F..')).toBeUndefined();
  });

  it('lists the UTC months of a range', () => {
    expect(monthKeysBetween(Date.UTC(2023, 10, 30, 23), Date.UTC(2024, 1, 1))).toEqual([
      '2023-11',
      '2023-12',
      '2024-01',
      '2024-02',
    ]);
  });

  it('merges and subtracts inclusive ranges', () => {
    expect(
      mergeRanges([
        [5, 9],
        [0, 3],
        [4, 4],
        [20, 30],
      ]),
    ).toEqual([
      [0, 9],
      [20, 30],
    ]);
    expect(
      subtractRanges(0, 40, [
        [5, 9],
        [20, 30],
      ]),
    ).toEqual([
      [0, 4],
      [10, 19],
      [31, 40],
    ]);
    expect(subtractRanges(6, 8, [[5, 9]])).toEqual([]);
  });
});

describe('US trading calendar', () => {
  it('knows the NYSE holidays as observed', () => {
    expect([...nyseHolidays(2024)].sort()).toEqual([
      '2024-01-01',
      '2024-01-15',
      '2024-02-19',
      '2024-03-29',
      '2024-05-27',
      '2024-06-19',
      '2024-07-04',
      '2024-09-02',
      '2024-11-28',
      '2024-12-25',
    ]);
    // 2022: New Year's Day on a Saturday is not moved; Christmas on a Sunday moves to Monday.
    expect(isTradingDate('2021-12-31')).toBe(true);
    expect(isTradingDate('2022-12-26')).toBe(false);
    expect(isTradingDate('2021-06-18')).toBe(true); // Juneteenth only from 2022
    expect(isTradingDate('2024-02-17')).toBe(false); // Saturday
  });

  it('finds New York midnight across DST', () => {
    expect(new Date(nyMidnightMs('2024-01-02')).toISOString()).toBe('2024-01-02T05:00:00.000Z');
    expect(new Date(nyMidnightMs('2024-07-02')).toISOString()).toBe('2024-07-02T04:00:00.000Z');
    expect(new Date(nyMidnightMs('2024-03-10')).toISOString()).toBe('2024-03-10T05:00:00.000Z');
  });
});
