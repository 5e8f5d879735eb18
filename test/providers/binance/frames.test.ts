import { describe, expect, it } from 'vitest';
import type { MarketDataError } from '../../../src/core/errors.js';
import type { MarketData } from '../../../src/core/types.js';
import { parseKlineFrame } from '../../../src/providers/binance/frames.js';
import { binanceConnectionPlans, normalizeWsBase } from '../../../src/providers/binance/stream.js';
import type { FrameSink } from '../../../src/stream/adapter.js';

// Frames written from PROTOCOLS.md §1.6 (the docs' example kline, final and not).
const kline = (x: boolean, extra: Record<string, unknown> = {}) => ({
  e: 'kline',
  E: 1672515782136,
  s: 'BNBBTC',
  k: {
    t: 1672515780000,
    T: 1672515839999,
    s: 'BNBBTC',
    i: '1m',
    f: 100,
    L: 200,
    o: '0.0010',
    c: '0.0020',
    h: '0.0025',
    l: '0.0015',
    v: '1000',
    n: 100,
    x,
    q: '1.0000',
    V: '500',
    Q: '0.500',
    B: '123456',
    ...extra,
  },
});

function collect(frame: string) {
  const bars: MarketData[] = [];
  const errors: MarketDataError[] = [];
  const times: number[] = [];
  const reconnects: string[] = [];
  const sink: FrameSink = {
    bar: (bar) => bars.push(bar),
    error: (error) => errors.push(error),
    exchangeTime: (timeMs) => times.push(timeMs),
    reconnect: (reason) => reconnects.push(reason),
    dataLost: () => reconnects.push('data lost'),
  };
  parseKlineFrame(frame, sink);
  return { bars, errors, times, reconnects };
}

describe('parseKlineFrame', () => {
  it('turns a final kline into one bar with numbers parsed from strings', () => {
    const { bars, errors, times } = collect(JSON.stringify(kline(true)));
    expect(errors).toEqual([]);
    expect(times).toEqual([1672515782136]);
    expect(bars).toEqual([
      {
        id: 'BNBBTC-1m-1672515780000',
        symbol: 'BNBBTC',
        time: new Date(1672515780000),
        open: 0.001,
        high: 0.0025,
        low: 0.0015,
        close: 0.002,
        volume: 1000,
      },
    ]);
  });

  it('reads the combined-stream wrapper', () => {
    const frame = JSON.stringify({ stream: 'bnbbtc@kline_1m', data: kline(true) });
    expect(collect(frame).bars.map((b) => b.symbol)).toEqual(['BNBBTC']);
  });

  it('skips bars that are not final but still reports the event time', () => {
    const { bars, errors, times } = collect(JSON.stringify(kline(false)));
    expect(bars).toEqual([]);
    expect(errors).toEqual([]);
    expect(times).toEqual([1672515782136]);
  });

  it('asks for a reconnect on serverShutdown (raw and combined)', () => {
    expect(collect('{"e":"serverShutdown","E":1770123456789}').reconnects).toHaveLength(1);
    expect(
      collect('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}').reconnects,
    ).toHaveLength(1);
  });

  it('ignores subscription replies', () => {
    const out = collect('{"result":null,"id":1}');
    expect([out.bars, out.errors]).toEqual([[], []]);
  });

  it.each([
    ['truncated JSON', '{"e":"kline","E":1,"k":{'],
    ['not JSON', 'hello'],
    ['a JSON number', '42'],
    ['kline without k', '{"e":"kline","E":1}'],
    ['string open time', JSON.stringify(kline(true, { t: '1672515780000' }))],
    ['NaN price', JSON.stringify(kline(true, { o: 'NaN' }))],
    ['negative price', JSON.stringify(kline(true, { c: '-1' }))],
    ['numeric price', JSON.stringify(kline(true, { h: 1 }))],
    ['empty volume', JSON.stringify(kline(true, { v: '' }))],
    ['an error frame', '{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}'],
  ])('reports %s as a non-fatal PROTOCOL error, no bar', (_name, frame) => {
    const { bars, errors } = collect(frame);
    expect(bars).toEqual([]);
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([['PROTOCOL', false]]);
  });
});

describe('parseKlineFrame fast path', () => {
  // A leading space is valid JSON but never matches the fast pattern: the JSON.parse path.
  const viaJson = (frame: string) => collect(` ${frame}`);
  const combined = (data: unknown, extra = '') =>
    `{"stream":"bnbbtc@kline_1m","data":${JSON.stringify(data)}${extra}}`;

  it.each([
    ['final, raw', JSON.stringify(kline(true))],
    ['final, combined', combined(kline(true))],
    ['final, combined, unknown trailing field', combined(kline(true), ',"ts":1672515782136.25')],
    ['not final', combined(kline(false))],
    ['zero volume', combined(kline(true, { v: '0.00000000' }))],
    ['negative price', combined(kline(true, { c: '-1' }))],
    ['price overflowing to Infinity', combined(kline(true, { o: '9'.repeat(400) }))],
    ['an escaped symbol', combined(kline(true, { s: 'BNB\\u0042TC' }))],
    ['a control character in B', combined(kline(true, { B: '\u0001' }))],
    ['keys in another order', combined({ ...kline(true), E: undefined, s: 'BNBBTC', x: 1 })],
    ['truncated', combined(kline(true)).slice(0, -1)],
  ])('gives what JSON.parse gives: %s', (_name, frame) => {
    const fast = collect(frame);
    const slow = viaJson(frame);
    expect(fast.bars).toEqual(slow.bars);
    expect(fast.times).toEqual(slow.times);
    expect(fast.errors.map((e) => e.code)).toEqual(slow.errors.map((e) => e.code));
  });

  it('takes the fast path for a final kline frame', () => {
    expect(collect(combined(kline(true), ',"ts":1.5')).bars).toHaveLength(1);
  });
});

describe('binanceConnectionPlans', () => {
  it('opens one raw socket per symbol with lower-case stream names', () => {
    expect(
      binanceConnectionPlans('wss://x:9443', ['BTCUSDT', 'ETHUSDT'], '1m', 'per-symbol'),
    ).toEqual([
      {
        id: 'binance:btcusdt@kline_1m',
        url: 'wss://x:9443/ws/btcusdt@kline_1m',
        symbols: ['BTCUSDT'],
        subscribeAfterOpen: [],
      },
      {
        id: 'binance:ethusdt@kline_1m',
        url: 'wss://x:9443/ws/ethusdt@kline_1m',
        symbols: ['ETHUSDT'],
        subscribeAfterOpen: [],
      },
    ]);
  });

  it('packs up to 1024 streams per combined socket', () => {
    const symbols = Array.from({ length: 2050 }, (_, i) => `S${i}USDT`);
    const plans = binanceConnectionPlans('wss://x/', symbols, '1h', 'combined');
    expect(plans.map((p) => p.symbols.length)).toEqual([1024, 1024, 2]);
    expect(plans[2]?.url).toBe('wss://x/stream?streams=s2048usdt@kline_1h/s2049usdt@kline_1h');
  });

  it('accepts a base URL copied with /ws or /stream', () => {
    expect(normalizeWsBase('wss://stream.binance.com:9443/ws')).toBe(
      'wss://stream.binance.com:9443',
    );
    expect(normalizeWsBase('ws://127.0.0.1:1/stream/')).toBe('ws://127.0.0.1:1');
  });
});
