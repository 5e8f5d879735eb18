import { describe, expect, it } from 'vitest';
import { barsPerSecCeiling, largeDownloadNotice } from '../../src/cli/download-size.js';

describe('largeDownloadNotice', () => {
  it('states the size and the least time of a download past 10 million bars', () => {
    // 10 years of 1s bars: 315,532,801 open times, at Binance's 50,000 bars/s ≥ 106 min.
    const notice = largeDownloadNotice(
      'binance',
      '1s',
      new Date(Date.UTC(2014, 0, 1)),
      new Date(Date.UTC(2024, 0, 1)),
    );
    expect(notice).toContain('up to 315,532,801 1s bars');
    expect(notice).toContain('50,000 bars/s');
    expect(notice).toContain('at least 106 min');
  });

  it('says nothing for 10 million bars or fewer', () => {
    const start = new Date(Date.UTC(2024, 0, 1));
    const tenMillionBars = new Date(start.getTime() + (10_000_000 - 1) * 1000);
    expect(largeDownloadNotice('binance', '1s', start, tenMillionBars)).toBeUndefined();
    expect(
      largeDownloadNotice('polygon', '1m', start, new Date(Date.UTC(2024, 11, 31))),
    ).toBeUndefined();
  });

  it("uses each venue's own ceiling", () => {
    expect(barsPerSecCeiling('binance')).toBe(50_000);
    expect(barsPerSecCeiling('polygon')).toBeCloseTo(4166.67, 1);
  });
});
