// OKX business-socket frames -> bars and errors (PROTOCOLS.md §6.3). Pure: no socket here.

import { MarketDataError } from '../../core/errors.js';
import type { FormingBarListener, Interval } from '../../core/types.js';
import type { FrameSink } from '../../stream/adapter.js';
import { candleToBar } from './candles.js';

/**
 * Parse one OKX frame: `pong` and subscribe acks are ignored, a candle push yields its bar when
 * `confirm` is the string "1" (the forming one goes to a forming-bar listener only), an `error`
 * event and anything malformed are non-fatal `PROTOCOL` errors.
 */
export function parseCandleFrame(
  frame: string,
  sink: FrameSink,
  interval: Interval,
  formingListener?: () => FormingBarListener | undefined,
): void {
  if (frame === 'pong') return;
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
  const { arg, data, event } = message as { arg?: unknown; data?: unknown; event?: unknown };
  if (typeof event === 'string') {
    if (event !== 'error') return;
    const { code, msg } = message as { code?: unknown; msg?: unknown };
    sink.error(
      new MarketDataError('PROTOCOL', `OKX socket error ${String(code)}: ${String(msg)}`, {
        fatal: false,
      }),
    );
    return;
  }
  const instId = (arg as { instId?: unknown } | undefined)?.instId;
  if (typeof instId !== 'string' || !Array.isArray(data)) {
    sink.error(malformed('a push without arg.instId or data', frame));
    return;
  }
  for (const row of data) {
    // Cheap check first: without a listener the forming rows ("0") cost no parsing.
    const confirmed = Array.isArray(row) && row[8] === '1';
    const onForming = confirmed ? undefined : formingListener?.();
    if (!confirmed && onForming === undefined && Array.isArray(row) && row[8] === '0') continue;
    const parsed = candleToBar(row, instId, interval);
    if (parsed === undefined) {
      sink.error(malformed('a candle that is not 9 strings with plausible values', frame));
      continue;
    }
    if (parsed.confirmed) sink.bar(parsed.bar);
    else onForming?.(parsed.bar);
  }
}

function malformed(what: string, frame: string): MarketDataError {
  return new MarketDataError(
    'PROTOCOL',
    `malformed OKX frame (${what}): ${frame.slice(0, 120)}; skipped, the stream goes on`,
    { fatal: false },
  );
}
