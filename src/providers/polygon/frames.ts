// Polygon WebSocket frames -> bars, statuses and errors (PROTOCOLS.md §2.3). Pure: no socket here.

import { MarketDataError } from '../../core/errors.js';
import { isPlausibleOhlcv } from '../../core/ohlcv.js';
import type { MarketData } from '../../core/types.js';
import { type AggregateEvent, EV_MINUTE, EV_SECOND, EV_STATUS } from './protocol.js';

/** One item of a server frame, after parsing. */
export type PolygonFrameItem =
  | { kind: 'bar'; bar: MarketData; endMs: number }
  | { kind: 'status'; status: string; message: string }
  | { kind: 'error'; error: MarketDataError };

const MAX_EXCERPT = 120;

function excerpt(text: string): string {
  return text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}…` : text;
}

function malformed(what: string, raw: string): PolygonFrameItem {
  return {
    kind: 'error',
    error: new MarketDataError('PROTOCOL', `malformed Polygon frame (${what}): ${excerpt(raw)}`, {
      fatal: false,
    }),
  };
}

function isAggregate(
  event: Record<string, unknown>,
): event is Record<string, unknown> & AggregateEvent {
  return (
    typeof event.sym === 'string' &&
    isPlausibleOhlcv(event.o, event.h, event.l, event.c, event.v) &&
    Number.isInteger(event.s) &&
    Number.isInteger(event.e)
  );
}

/**
 * Parses one server frame. Every server frame is a JSON array that may batch several events of
 * mixed types (PROTOCOLS.md §2.3). Bars of `wantedEv` become `bar` items, statuses `status`
 * items; a frame or event that does not parse becomes a non-fatal `PROTOCOL` error item and the
 * rest of the frame is still used. Other event types (e.g. trades) are ignored.
 */
export function parseFrame(raw: string, wantedEv: 'AM' | 'A'): PolygonFrameItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [malformed('not JSON', raw)];
  }
  if (!Array.isArray(parsed)) return [malformed('not a JSON array', raw)];
  const items: PolygonFrameItem[] = [];
  for (const event of parsed as unknown[]) {
    if (typeof event !== 'object' || event === null) {
      items.push(malformed('event is not an object', raw));
      continue;
    }
    const record = event as Record<string, unknown>;
    const ev = record.ev;
    if (ev === EV_STATUS) {
      if (typeof record.status !== 'string') {
        items.push(malformed('status event without status', raw));
        continue;
      }
      items.push({
        kind: 'status',
        status: record.status,
        message: typeof record.message === 'string' ? record.message : '',
      });
    } else if (ev === wantedEv) {
      if (!isAggregate(record)) {
        items.push(malformed(`${ev} event with missing or non-numeric fields`, raw));
        continue;
      }
      items.push({ kind: 'bar', bar: aggregateToBar(record), endMs: record.e });
    } else if (ev !== EV_MINUTE && ev !== EV_SECOND && typeof ev !== 'string') {
      items.push(malformed('event without ev', raw));
    }
  }
  return items;
}

/** An `AM`/`A` event as a bar; `time` is the window start (`s`). */
export function aggregateToBar(event: AggregateEvent): MarketData {
  return {
    id: '',
    symbol: event.sym,
    time: new Date(event.s),
    open: event.o,
    high: event.h,
    low: event.l,
    close: event.c,
    volume: event.v,
  };
}
