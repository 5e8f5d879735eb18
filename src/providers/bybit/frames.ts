// Bybit public spot frames -> bars, exchange times and errors (PROTOCOLS.md §5.3). Pure: no
// socket here.

import { MarketDataError } from '../../core/errors.js';
import { decimal, isPlausibleOhlcv, venueBarId } from '../../core/ohlcv.js';
import type { FormingBarListener, Interval, MarketData } from '../../core/types.js';
import type { FrameSink } from '../../stream/adapter.js';

/**
 * Parse one Bybit frame (PROTOCOLS.md §5.3): a `kline.*` push reports its `ts` and, for each
 * element with `confirm: true`, the closed bar; pongs and subscribe acks are ignored; anything
 * malformed is a non-fatal `PROTOCOL` error. A repeated `confirm:true` (seen on the venue) is
 * left to the engine's dedup by open time. `interval` is ours (`1m`), for the bar id.
 */
export function parseBybitFrame(
  frame: string,
  sink: FrameSink,
  interval: Interval,
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
  const event = message as Record<string, unknown>;
  const topic = event.topic;
  if (typeof topic !== 'string') {
    // Pong (`op:"ping"`) and acks (`op:"subscribe"`) carry no topic.
    if (event.success === false) {
      sink.error(
        new MarketDataError(
          'PROTOCOL',
          `Bybit stream error: ${String(event.ret_msg ?? 'unknown')}`,
          { fatal: false },
        ),
      );
    }
    return;
  }
  if (!topic.startsWith('kline.')) return;
  const ts = event.ts;
  if (typeof ts === 'number') sink.exchangeTime(ts);
  const data = event.data;
  if (!Array.isArray(data)) {
    sink.error(malformed('push without a data array', frame));
    return;
  }
  const symbol = topic.slice(topic.indexOf('.', 6) + 1);
  for (const item of data) {
    if (typeof item !== 'object' || item === null) {
      sink.error(malformed('data element is not an object', frame));
      return;
    }
    const k = item as Record<string, unknown>;
    // Bybit pushes the forming bar every 1–60 s; only `confirm: true` is its final value.
    if (typeof k.confirm !== 'boolean') {
      sink.error(malformed('confirm is not a boolean', frame));
      return;
    }
    const closed = k.confirm;
    const onForming = closed ? undefined : formingListener?.();
    if (!closed && onForming === undefined) continue;
    const openMs = k.start;
    if (typeof openMs !== 'number' || !Number.isInteger(openMs) || symbol === '') {
      sink.error(malformed('kline without integer start', frame));
      return;
    }
    const bar: MarketData = {
      id: venueBarId(symbol, interval, openMs),
      symbol,
      time: new Date(openMs),
      open: decimal(k.open),
      high: decimal(k.high),
      low: decimal(k.low),
      close: decimal(k.close),
      volume: decimal(k.volume),
    };
    if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
      sink.error(
        malformed('kline with a price or volume that is not a non-negative number', frame),
      );
      return;
    }
    if (onForming !== undefined) onForming(bar);
    else sink.bar(bar);
  }
}

function malformed(what: string, frame: string): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `malformed Bybit frame (${what}): ${frame.slice(0, 120)}; skipped, the stream goes on`,
    { fatal: false },
  );
}
