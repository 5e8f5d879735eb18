import { describe, expect, it } from 'vitest';
import { openTimesBetween } from '../../../src/core/intervals.js';
import { readBinanceErrorBody } from '../../../src/providers/binance/protocol.js';
import { planKlinePages, rowsToClosedBars } from '../../../src/providers/binance/rest.js';

const HOUR = 3_600_000;

describe('planKlinePages', () => {
  it('covers every open time in [start, end] exactly once, 1000 per page', () => {
    const start = Date.UTC(2024, 0, 1, 0, 30);
    const end = Date.UTC(2024, 3, 1);
    const pages = planKlinePages('1h', start, end);
    const expected = openTimesBetween('1h', start, end);
    expect(pages.reduce((n, p) => n + p.count, 0)).toBe(expected.length);
    expect(pages[0]?.startMs).toBe(Date.UTC(2024, 0, 1, 1));
    expect(pages.every((p) => p.count <= 1000)).toBe(true);
    const covered = pages.flatMap((p) => openTimesBetween('1h', p.startMs, p.endMs));
    expect(covered).toEqual(expected);
    expect(pages[1]?.startMs).toBe((pages[0]?.endMs ?? 0) + HOUR);
  });

  it('walks calendar months for 1M and Monday weeks for 1w', () => {
    const months = planKlinePages('1M', Date.UTC(2020, 0, 15), Date.UTC(2024, 1, 29));
    expect(months).toEqual([
      { startMs: Date.UTC(2020, 1, 1), endMs: Date.UTC(2024, 1, 1), count: 49 },
    ]);
    const weeks = planKlinePages('1w', Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 31));
    expect(weeks[0]?.startMs).toBe(Date.UTC(2024, 0, 8)); // a Monday
    expect(weeks[0]?.count).toBe(4);
  });

  it('plans nothing for an empty range and a single bar for start = end on a boundary', () => {
    expect(planKlinePages('1m', 10 * 60_000, 9 * 60_000)).toEqual([]);
    expect(planKlinePages('1m', 60_000, 60_000)).toEqual([
      { startMs: 60_000, endMs: 60_000, count: 1 },
    ]);
  });

  it('does not build an array per open time for long 1s ranges', () => {
    const pages = planKlinePages('1s', 0, 365 * 24 * HOUR - 1000);
    expect(pages).toHaveLength(31_536);
  });
});

describe('rowsToClosedBars', () => {
  const row = (openMs: number, close = '2') => [
    openMs,
    '1',
    '3',
    '0.5',
    close,
    '10',
    openMs + 59_999,
    '20',
    5,
    '1',
    '2',
    '0',
  ];

  it('drops the still-open bar (closeTime >= serverTime)', () => {
    const bars = rowsToClosedBars([row(0), row(60_000), row(120_000)], 'X', '1m', 120_000, -1);
    expect(bars.map((b) => b.time.getTime())).toEqual([0, 60_000]);
    expect(bars[0]).toEqual({
      id: 'X-1m-0',
      symbol: 'X',
      time: new Date(0),
      open: 1,
      high: 3,
      low: 0.5,
      close: 2,
      volume: 10,
    });
  });

  it.each([
    ['a row that is not an array', [{}]],
    ['a repeated open time', [row(0), row(0)]],
    ['an open time before the page', [row(-60_000)]],
    ['a NaN price', [row(0, 'abc')]],
    ['a negative price', [row(0, '-2')]],
  ])('rejects %s with a non-fatal PROTOCOL error', (_name, rows) => {
    expect(() => rowsToClosedBars(rows, 'X', '1m', 1e15, -1)).toThrow(
      expect.objectContaining({ code: 'PROTOCOL', fatal: false }),
    );
  });
});

describe('readBinanceErrorBody', () => {
  it('maps -1121 to INVALID_SYMBOL and -1120 to INVALID_INTERVAL, keeping the message', () => {
    expect(readBinanceErrorBody(400, '{"code":-1121,"msg":"Invalid symbol."}')).toEqual({
      message: 'Invalid symbol. (Binance code -1121)',
      code: 'INVALID_SYMBOL',
    });
    expect(readBinanceErrorBody(400, '{"code":-1120,"msg":"Invalid interval."}')?.code).toBe(
      'INVALID_INTERVAL',
    );
    expect(readBinanceErrorBody(400, '{"code":-1130,"msg":"bad"}')).toEqual({
      message: 'bad (Binance code -1130)',
    });
    expect(readBinanceErrorBody(502, '<html>Bad gateway</html>')).toBeUndefined();
  });
});
