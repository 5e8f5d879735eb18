import { describe, expect, it } from 'vitest';
import type { MarketDataError } from '../../../src/core/errors.js';
import type { MarketData } from '../../../src/core/types.js';
import { candleToBar, rowsToBars } from '../../../src/providers/okx/candles.js';
import { parseCandleFrame } from '../../../src/providers/okx/frames.js';
import { OKX_BARS } from '../../../src/providers/okx/protocol.js';
import type { FrameSink } from '../../../src/stream/adapter.js';

// Frames written from PROTOCOLS.md §6.2/§6.3 (the docs' example row), not captured from our simulator.
const ROW = [
  '1597026383085',
  '8533.02',
  '8553.74',
  '8527.17',
  '8548.26',
  '45247',
  '529.58',
  '529.58',
];
const MINUTE = 60_000;

function sink() {
  const bars: MarketData[] = [];
  const errors: MarketDataError[] = [];
  const s: FrameSink = {
    bar: (bar) => bars.push(bar),
    exchangeTime: () => {},
    error: (error) => errors.push(error),
    dataLost: () => {},
    reconnect: () => {},
  };
  return { s, bars, errors };
}

const push = (confirm: string) =>
  JSON.stringify({
    arg: { channel: 'candle1m', instId: 'BTC-USDT' },
    data: [[...ROW, confirm]],
  });

describe('OKX frames (PROTOCOLS.md §6.3)', () => {
  it('yields a bar only for confirm "1" — the string "0" is truthy and must not count', () => {
    const { s, bars, errors } = sink();
    parseCandleFrame(push('0'), s, '1m');
    expect(bars).toEqual([]);
    parseCandleFrame(push('1'), s, '1m');
    expect(errors).toEqual([]);
    expect(bars).toEqual([
      {
        id: 'BTC-USDT-1m-1597026383085',
        symbol: 'BTC-USDT',
        time: new Date(1597026383085),
        open: 8533.02,
        high: 8553.74,
        low: 8527.17,
        close: 8548.26,
        volume: 45247,
      },
    ]);
  });

  it('hands the forming candle to a listener and never to the sink', () => {
    const { s, bars } = sink();
    const forming: MarketData[] = [];
    parseCandleFrame(push('0'), s, '1m', () => (bar) => forming.push(bar));
    expect(bars).toEqual([]);
    expect(forming.map((b) => b.close)).toEqual([8548.26]);
  });

  it('ignores pong and acks; reports error events and malformed frames as non-fatal PROTOCOL', () => {
    const { s, bars, errors } = sink();
    parseCandleFrame('pong', s, '1m');
    parseCandleFrame(
      '{"event":"subscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"}}',
      s,
      '1m',
    );
    expect(errors).toEqual([]);
    parseCandleFrame('{"event":"error","code":"60012","msg":"Invalid request"}', s, '1m');
    parseCandleFrame('not json', s, '1m');
    parseCandleFrame(
      '{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[[1597026383085,8533.02,null,"x",{},-1,"","",1]]}',
      s,
      '1m',
    );
    parseCandleFrame(push('1').replace('"8553.74"', '"-5"'), s, '1m');
    expect(bars).toEqual([]);
    expect(errors.map((e) => `${e.code}:${e.fatal}`)).toEqual(Array(4).fill('PROTOCOL:false'));
    expect(errors[0]?.message).toContain('60012');
  });
});

describe('OKX REST rows (PROTOCOLS.md §6.2)', () => {
  const t0 = 1_700_000_040_000 - (1_700_000_040_000 % MINUTE);
  const row = (openMs: number, confirm = '1') => [String(openMs), ...ROW.slice(1), confirm];
  const expect0 = {
    instId: 'BTC-USDT',
    interval: '1m' as const,
    afterMs: t0 + 3 * MINUTE,
    beforeMs: t0 - 1,
  };

  it('turns newest-first rows into ascending closed bars and drops the forming one', () => {
    const serverTimeMs = t0 + 2 * MINUTE + 5000; // t0+2m is still forming
    const rows = [row(t0 + 2 * MINUTE, '0'), row(t0 + MINUTE), row(t0)];
    const { bars, rowCount, oldestMs } = rowsToBars(rows, { ...expect0, serverTimeMs });
    expect(bars.map((b) => b.time.getTime())).toEqual([t0, t0 + MINUTE]);
    expect({ rowCount, oldestMs }).toEqual({ rowCount: 3, oldestMs: t0 });
  });

  it('refuses rows out of order, on the exclusive bounds, malformed, or stale ("0" though closed)', () => {
    const serverTimeMs = t0 + 10 * MINUTE;
    const bad = [
      [row(t0), row(t0 + MINUTE)],
      [row(t0 + 3 * MINUTE)],
      [row(t0 - MINUTE)],
      [row(t0).slice(0, 8)],
      [row(t0 + MINUTE, '0')],
    ];
    for (const rows of bad) {
      expect(() => rowsToBars(rows, { ...expect0, serverTimeMs })).toThrow(
        expect.objectContaining({ code: 'PROTOCOL', fatal: false }),
      );
    }
  });

  it('reads the 9 strings only: numbers where strings belong are malformed', () => {
    expect(candleToBar([1597026383085, ...ROW.slice(1), '1'], 'BTC-USDT', '1m')).toBeUndefined();
    expect(candleToBar([...ROW, true], 'BTC-USDT', '1m')).toBeUndefined();
  });

  it('asks for the …utc names from 6h up (the plain ones are UTC+8) and has no 8h', () => {
    expect(OKX_BARS['4h']).toBe('4H');
    expect([
      OKX_BARS['6h'],
      OKX_BARS['12h'],
      OKX_BARS['1d'],
      OKX_BARS['1w'],
      OKX_BARS['1M'],
    ]).toEqual(['6Hutc', '12Hutc', '1Dutc', '1Wutc', '1Mutc']);
    expect(OKX_BARS['8h']).toBeUndefined();
  });
});
