// Binance market-stream frames -> bars, exchange times and errors (PROTOCOLS.md §1.6). Pure: no
// socket here.

import { MarketDataError } from '../../core/errors.js';
import { decimal, isPlausibleOhlcv, venueBarId } from '../../core/ohlcv.js';
import type { FormingBarListener, MarketData } from '../../core/types.js';
import type { FrameSink } from '../../stream/adapter.js';

// The fast path: a closed kline frame in exactly Binance's layout (PROTOCOLS.md §1.6), raw or
// combined, matched whole by one anchored pattern, so what it accepts is valid JSON with these
// fields and types; anything else (other key order, escapes, errors, replies) takes JSON.parse.
// Unknown trailing number fields are allowed, as a client must ignore fields it does not know.
const DEC = '(\\d+(?:\\.\\d+)?)';
const NUM = '-?\\d+(?:\\.\\d+)?';
const STR = '"[^"\\\\\\x00-\\x1f]*"'; // no escape, no control character
const EXTRA = `(?:,"\\w+":${NUM})*`;
const KLINE = `\\{"e":"kline","E":(\\d+),"s":${STR},"k":\\{"t":(\\d+),"T":\\d+,"s":"([A-Z0-9]+)","i":"(\\w+)","f":-?\\d+,"L":-?\\d+,"o":"${DEC}","c":"${DEC}","h":"${DEC}","l":"${DEC}","v":"${DEC}","n":\\d+,"x":(true|false),"q":"\\d+(?:\\.\\d+)?","V":"\\d+(?:\\.\\d+)?","Q":"\\d+(?:\\.\\d+)?","B":${STR}\\}${EXTRA}\\}`;
const COMBINED_KLINE = new RegExp(`^\\{"stream":${STR},"data":${KLINE}${EXTRA}\\}$`);
const RAW_KLINE = new RegExp(`^${KLINE}$`);

/** True when the fast path handled `frame` (a well-formed kline frame). */
function parseKlineFast(
  frame: string,
  sink: FrameSink,
  formingListener: (() => FormingBarListener | undefined) | undefined,
): boolean {
  const m = (frame.charCodeAt(2) === 115 ? COMBINED_KLINE : RAW_KLINE).exec(frame); // 's'tream
  if (m === null) return false;
  sink.exchangeTime(Number(m[1]));
  const closed = m[10] === 'true';
  const onForming = closed ? undefined : formingListener?.();
  if (!closed && onForming === undefined) return true;
  const openMs = Number(m[2]);
  const symbol = m[3] as string;
  const bar: MarketData = {
    id: venueBarId(symbol, m[4] as string, openMs),
    symbol,
    time: new Date(openMs),
    open: Number(m[5]),
    high: Number(m[7]),
    low: Number(m[8]),
    close: Number(m[6]),
    volume: Number(m[9]),
  };
  if (!isPlausibleOhlcv(bar.open, bar.high, bar.low, bar.close, bar.volume)) {
    sink.error(malformed('kline with a price or volume that is not a non-negative number', frame));
    return true;
  }
  if (onForming !== undefined) onForming(bar);
  else sink.bar(bar);
  return true;
}

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
  if (parseKlineFast(frame, sink, formingListener)) return;
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
      id: venueBarId(symbol, String(k.i), openMs),
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
