// Binance market-stream frames -> bars, exchange times and errors (PROTOCOLS.md §1.6). Pure: no
// socket here.

import { MarketDataError } from '../../core/errors.js';
import { isPlausibleOhlcv } from '../../core/ohlcv.js';
import type { FormingBarListener, MarketData } from '../../core/types.js';
import type { FrameSink } from '../../stream/adapter.js';
import { binanceBarId, decimal } from './rest.js';

/**
 * Parse one Binance market-stream frame (PROTOCOLS.md §1.6): raw (`/ws/…`, the bare event) or
 * combined (`/stream?…`, `{"stream","data"}`). Reports the event time, the bar when `k.x` is
 * true, `serverShutdown` as a reconnect request, and anything malformed as a non-fatal
 * `PROTOCOL` error. Subscription replies are ignored. One JSON.parse, one bar literal.
 */
export function parseKlineFrame(
  frame: string,
  sink: FrameSink,
  formingListener?: () => FormingBarListener | undefined,
): void {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    sink.error(malformed('not JSON', frame));
    return;
  }
  if (typeof message !== 'object' || message === null) {
    sink.error(malformed('not an object', frame));
    return;
  }
  let event = message as Record<string, unknown>;
  const data = event.data;
  if (typeof data === 'object' && data !== null && typeof event.stream === 'string') {
    event = data as Record<string, unknown>;
  }
  const type = event.e;
  if (type === 'kline') {
    const eventTimeMs = event.E;
    if (typeof eventTimeMs === 'number') sink.exchangeTime(eventTimeMs);
    const k = event.k as Record<string, unknown> | undefined;
    if (typeof k !== 'object' || k === null) {
      sink.error(malformed('kline event without k', frame));
      return;
    }
    // Binance re-sends the open bar every 1–2 s; only x=true is its final update. Yielding
    // earlier would give the consumer the same open time twice, with changing values. The open
    // bar goes only to a forming-bar listener (charts), and costs nothing without one.
    const closed = k.x === true;
    const onForming = closed ? undefined : formingListener?.();
    if (!closed && onForming === undefined) return;
    const openMs = k.t;
    const symbol = k.s;
    if (typeof openMs !== 'number' || !Number.isInteger(openMs) || typeof symbol !== 'string') {
      sink.error(malformed('kline without integer t or string s', frame));
      return;
    }
    const bar: MarketData = {
      id: binanceBarId(symbol, String(k.i), openMs),
      symbol,
      time: new Date(openMs),
      open: decimal(k.o),
      high: decimal(k.h),
      low: decimal(k.l),
      close: decimal(k.c),
      volume: decimal(k.v),
    };
    if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
      sink.error(
        malformed('kline with a price or volume that is not a non-negative number', frame),
      );
      return;
    }
    if (onForming !== undefined) onForming(bar);
    else sink.bar(bar);
    return;
  }
  if (type === 'serverShutdown') {
    sink.reconnect('Binance announced a server shutdown');
    return;
  }
  if ('result' in event && 'id' in event) return;
  if ('error' in event) {
    const error = event.error as { code?: unknown; msg?: unknown } | undefined;
    sink.error(
      new MarketDataError(
        'PROTOCOL',
        `Binance stream error ${String(error?.code)}: ${String(error?.msg ?? 'unknown')}`,
        { fatal: false },
      ),
    );
    return;
  }
  // Other event types (none expected on kline streams) are ignored, as a client must ignore
  // fields and events it does not know.
}

function malformed(what: string, frame: string): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `malformed Binance frame (${what}): ${frame.slice(0, 120)}; skipped, the stream goes on`,
    { fatal: false },
  );
}
