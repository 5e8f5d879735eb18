import { describe, expect, it } from 'vitest';
import { MarketDataError } from '../../../src/core/errors.js';
import { rowsToClosedBars } from '../../../src/providers/bybit/rows.js';
import { bybitConnectionPlans } from '../../../src/providers/bybit/stream.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 0, 1);
// PROTOCOLS.md §5.2 rows: 7 strings, newest first.
const row = (openMs: number, close = '101') => [
  String(openMs),
  '100',
  '102',
  '99',
  close,
  '5',
  '505',
];

describe('rowsToClosedBars (PROTOCOLS.md §5.2, §3.18)', () => {
  it('turns newest-first rows into ascending closed bars and drops the forming one', () => {
    const rows = [row(T0 + 3 * MINUTE, '104'), row(T0 + 2 * MINUTE), row(T0 + MINUTE), row(T0)];
    // Server time inside minute 3: that bar is still forming.
    const bars = rowsToClosedBars(rows, 'BTCUSDT', '1m', T0 + 3 * MINUTE + 10, T0, T0 + 3 * MINUTE);
    expect(bars.map((b) => b.time.getTime())).toEqual([T0, T0 + MINUTE, T0 + 2 * MINUTE]);
    expect(bars[0]).toEqual({
      id: `BTCUSDT-1m-${T0}`,
      symbol: 'BTCUSDT',
      time: new Date(T0),
      open: 100,
      high: 102,
      low: 99,
      close: 101,
      volume: 5,
    });
    // At the minute's end it is final.
    expect(
      rowsToClosedBars(rows, 'BTCUSDT', '1m', T0 + 4 * MINUTE, T0, T0 + 3 * MINUTE),
    ).toHaveLength(4);
  });

  it('drops rows outside the page, so inclusive and exclusive bounds both work', () => {
    const rows = [row(T0 + 2 * MINUTE), row(T0 + MINUTE), row(T0)];
    const bars = rowsToClosedBars(rows, 'BTCUSDT', '1m', T0 + 9 * MINUTE, T0 + MINUTE, T0 + MINUTE);
    expect(bars.map((b) => b.time.getTime())).toEqual([T0 + MINUTE]);
  });

  it.each([
    ['oldest first', [row(T0), row(T0 + MINUTE)]],
    ['a repeated start', [row(T0), row(T0)]],
    ['a numeric start', [[T0, '1', '1', '1', '1', '1', '1']]],
    ['a negative price', [[String(T0), '-1', '1', '1', '1', '1', '1']]],
    ['not an array', [{ start: T0 }]],
  ])('refuses %s with a non-fatal PROTOCOL error', (_what, rows) => {
    let error: unknown;
    try {
      rowsToClosedBars(rows, 'BTCUSDT', '1m', T0 + 9 * MINUTE, T0, T0 + 9 * MINUTE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MarketDataError);
    expect((error as MarketDataError).code).toBe('PROTOCOL');
    expect((error as MarketDataError).fatal).toBe(false);
  });
});

describe('bybitConnectionPlans', () => {
  it('puts up to 200 topics on a socket at /v5/public/spot', () => {
    const symbols = Array.from({ length: 450 }, (_, i) => `S${i}USDT`);
    const plans = bybitConnectionPlans('wss://stream.bybit.com/v5/public/spot/', symbols);
    expect(plans.map((p) => p.symbols.length)).toEqual([200, 200, 50]);
    expect(new Set(plans.map((p) => p.url))).toEqual(
      new Set(['wss://stream.bybit.com/v5/public/spot']),
    );
  });
});
