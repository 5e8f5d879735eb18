// Binance Spot numbers and wire formats, copied from PROTOCOLS.md §1 (not from our client).

import type { Interval } from '../../core/types.js';
import { nextBarOpenMs } from '../calendar.js';
import type { Profile, RawBar } from '../model.js';

/** PROTOCOLS.md §1.5 klines: default `limit`. */
export const KLINES_DEFAULT_LIMIT = 500;
/** PROTOCOLS.md §1.5 klines: maximum `limit` (larger values are clamped [obs]). */
export const KLINES_MAX_LIMIT = 1000;
/** PROTOCOLS.md §1.5: request weights. */
export const WEIGHT = {
  ping: 1,
  time: 1,
  exchangeInfo: 20,
  klines: 2,
  tickerOne: 2,
  tickerMany: 4,
} as const;
/** PROTOCOLS.md §1.3: REQUEST_WEIGHT limit per minute. */
export const DEFAULT_WEIGHT_LIMIT = 6000;
/** PROTOCOLS.md §1.3: the weight window is one minute. */
export const WEIGHT_WINDOW_MS = 60_000;
/** PROTOCOLS.md §1.3: bans escalate from 2 minutes … */
export const BAN_MIN_MS = 2 * 60_000;
/** … to 3 days. */
export const BAN_MAX_MS = 3 * 86_400_000;
/** Our choice: requests made while over the limit (after a 429) before a 418 ban. */
export const STRIKES_BEFORE_BAN = 3;
/** PROTOCOLS.md §1.4 / error message: the legal symbol pattern. */
// Letters without case (CJK) are legal too: the venue lists Unicode symbols (PROTOCOLS.md §1.5).
export const SYMBOL_PATTERN = /^[A-Z0-9\-_.\p{Lo}]{1,20}$/u;

/** PROTOCOLS.md §1.6: in-progress kline updates every 2000 ms (1000 ms for `1s`). */
export const UPDATE_INTERVAL_MS = 2000;
/** PROTOCOLS.md §1.6 limits: server ping every 20 s. */
export const PING_INTERVAL_MS = 20_000;
/** PROTOCOLS.md §1.6 limits: no pong within 1 min → disconnect. */
export const PONG_DEADLINE_MS = 60_000;
/** PROTOCOLS.md §1.6 limits: incoming messages per second per connection. */
export const MAX_INCOMING_PER_SECOND = 5;
/** PROTOCOLS.md §1.6 limits: streams per connection. */
export const MAX_STREAMS = 1024;
/** PROTOCOLS.md §1.6 limits: new connections per IP per {@link NEW_CONNECTION_WINDOW_MS}. */
export const NEW_CONNECTIONS_PER_WINDOW = 300;
/** PROTOCOLS.md §1.6 limits: 5 minutes (real time: the exchange counts per IP, not by our clock). */
export const NEW_CONNECTION_WINDOW_MS = 5 * 60 * 1000;
/** PROTOCOLS.md §1.6 limits: connection lifetime 24 h. */
export const CONNECTION_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** PROTOCOLS.md §1.6: the 16 kline intervals of stream names. */
export const STREAM_PATTERN =
  /^([a-z0-9\-_.\p{Lo}]{1,20})@kline_(1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M)$/u;
/** Well-formed streams we accept but never feed (other event types, time-zoned klines). */
export const SILENT_STREAM_PATTERN =
  /^([a-z0-9\-_.\p{Lo}]{1,20})@(trade|aggTrade|bookTicker|miniTicker|ticker|avgPrice|depth|depth5|depth10|depth20|ticker_1h|ticker_4h|ticker_1d|kline_\w+@[+-]\d{1,2}:\d{2})(@100ms|@1000ms)?$/u;

/** `{code, msg}` error body (PROTOCOLS.md §1.4). */
export interface BinanceError {
  code: number;
  msg: string;
}

/** PROTOCOLS.md §1.4 error bodies. */
export const errors = {
  mandatory: (param: string): BinanceError => ({
    code: -1102,
    msg: `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`,
  }),
  illegalSymbol: (): BinanceError => ({
    code: -1100,
    msg: "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
  }),
  illegalNumber: (param: string): BinanceError => ({
    code: -1100,
    msg: `Illegal characters found in parameter '${param}'; legal range is '^[0-9]{1,20}$'.`,
  }),
  badInterval: (): BinanceError => ({ code: -1120, msg: 'Invalid interval.' }),
  badSymbol: (): BinanceError => ({ code: -1121, msg: 'Invalid symbol.' }),
  invalidParam: (param: string): BinanceError => ({
    code: -1130,
    msg: `Data sent for parameter '${param}' is not valid.`,
  }),
  startAfterEnd: (): BinanceError => ({ code: -1023, msg: 'Start time is greater than end time.' }),
  combination: (): BinanceError => ({
    code: -1128,
    msg: 'Combination of optional parameters invalid.',
  }),
  tooMuchWeight: (limit: number): BinanceError => ({
    code: -1003,
    msg: `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
  }),
  banned: (untilMs: number): BinanceError => ({
    code: -1003,
    msg: `Way too much request weight used; IP banned until ${untilMs}. Please use WebSocket Streams for live updates to avoid bans.`,
  }),
  unknown: (): BinanceError => ({
    code: -1000,
    msg: 'An unknown error occurred while processing the request.',
  }),
  busy: (): BinanceError => ({
    code: -1008,
    msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.',
  }),
};

/** Close time (`T`, inclusive) of the bar opening at `openMs`. */
export function closeTimeMs(interval: Interval, openMs: number): number {
  return interval === '1s' ? openMs + 999 : nextBarOpenMs(interval, openMs) - 1;
}

const price = (p: Profile, ticks: number): string => (ticks / p.ticksPerUnit).toFixed(8);
const quantity = (p: Profile, lots: number): string => (lots / p.lotsPerUnit).toFixed(8);
const quote = (p: Profile, lots: number, raw: RawBar): string =>
  (((lots / p.lotsPerUnit) * (raw.h + raw.l + raw.c)) / 3 / p.ticksPerUnit).toFixed(8);

// Trade ids: 100 per second of time are reserved, so ids rise with time and never overlap.
const firstTradeId = (raw: RawBar): number => (raw.n === 0 ? -1 : raw.openMs / 10);
const lastTradeId = (raw: RawBar): number => (raw.n === 0 ? -1 : raw.openMs / 10 + raw.n - 1);

/** One `/api/v3/klines` row (PROTOCOLS.md §1.5): 12 elements, strings for decimals. */
export function klineRow(p: Profile, interval: Interval, raw: RawBar): Array<string | number> {
  return [
    raw.openMs,
    price(p, raw.o),
    price(p, raw.h),
    price(p, raw.l),
    price(p, raw.c),
    quantity(p, raw.v),
    closeTimeMs(interval, raw.openMs),
    quote(p, raw.v, raw),
    raw.n,
    quantity(p, raw.tb),
    quote(p, raw.tb, raw),
    '0',
  ];
}

/** A kline event (PROTOCOLS.md §1.6), as the text of one frame. */
export function klineEvent(
  p: Profile,
  symbol: string,
  interval: Interval,
  raw: RawBar,
  closed: boolean,
  eventTimeMs: number,
): string {
  return `{"e":"kline","E":${eventTimeMs},"s":"${symbol}","k":{"t":${raw.openMs},"T":${closeTimeMs(interval, raw.openMs)},"s":"${symbol}","i":"${interval}","f":${firstTradeId(raw)},"L":${lastTradeId(raw)},"o":"${price(p, raw.o)}","c":"${price(p, raw.c)}","h":"${price(p, raw.h)}","l":"${price(p, raw.l)}","v":"${quantity(p, raw.v)}","n":${raw.n},"x":${closed},"q":"${quote(p, raw.v, raw)}","V":"${quantity(p, raw.tb)}","Q":"${quote(p, raw.tb, raw)}","B":"0"}}`;
}

/** A kline-shaped frame with wrong field types, for the malformed-frame fault. */
export function wrongTypesKline(symbol: string, eventTimeMs: number): string {
  return `{"e":"kline","E":"${eventTimeMs}","s":42,"k":{"t":"soon","T":null,"s":"${symbol}","i":1,"o":1.5,"c":true,"h":[],"l":{},"v":-1,"n":"many","x":"yes"}}`;
}

/** Wraps an event for a combined-stream connection. */
export function combinedFrame(stream: string, event: string): string {
  return `{"stream":"${stream}","data":${event}}`;
}
