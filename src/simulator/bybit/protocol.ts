// Bybit v5 Spot numbers and wire formats, copied from PROTOCOLS.md §5 (not from our client).

import type { Interval } from '../../core/types.js';
import { nextBarOpenMs } from '../calendar.js';
import type { Profile, RawBar } from '../model.js';

/** PROTOCOLS.md §5.2 kline: default `limit`. */
export const KLINE_DEFAULT_LIMIT = 200;
/** PROTOCOLS.md §5.2 kline: maximum `limit`. */
export const KLINE_MAX_LIMIT = 1000;
/** PROTOCOLS.md §5.2: 600 requests per 5 s per IP. */
export const REQUESTS_PER_WINDOW = 600;
/** PROTOCOLS.md §5.2: the request window, 5 s (real time: the venue counts per IP). */
export const REQUEST_WINDOW_MS = 5000;
/** PROTOCOLS.md §5.2: over the limit the IP is blocked for at least 10 minutes (real time). */
export const BAN_MS = 10 * 60_000;
/** PROTOCOLS.md §5.3: at most 10 args per subscribe request. */
export const MAX_ARGS_PER_SUBSCRIBE = 10;
/** Our choice: in-progress pushes every 2 s of sim time (the venue: every 1–60 s). */
export const UPDATE_INTERVAL_MS = 2000;

/** PROTOCOLS.md §5.3: wire interval names and the UTC calendar interval each one is. */
export const WIRE_INTERVALS: Readonly<Record<string, Interval>> = {
  '1': '1m',
  '3': '3m',
  '5': '5m',
  '15': '15m',
  '30': '30m',
  '60': '1h',
  '120': '2h',
  '240': '4h',
  '360': '6h',
  '720': '12h',
  D: '1d',
  W: '1w',
  M: '1M',
};

/** PROTOCOLS.md §5.3: topic `kline.{interval}.{symbol}`. */
export const TOPIC_PATTERN = /^kline\.(1|3|5|15|30|60|120|240|360|720|D|W|M)\.([A-Z0-9]{1,30})$/;

/** `{retCode, retMsg, result, retExtInfo, time}` envelope (PROTOCOLS.md §5.2). */
export function envelope(nowMs: number, result: unknown, retCode = 0, retMsg = 'OK'): unknown {
  return { retCode, retMsg, result, retExtInfo: {}, time: nowMs };
}

const price = (p: Profile, ticks: number): string => String(ticks / p.ticksPerUnit);
const quantity = (p: Profile, lots: number): string => String(lots / p.lotsPerUnit);
const turnover = (p: Profile, raw: RawBar): string =>
  (((raw.v / p.lotsPerUnit) * (raw.h + raw.l + raw.c)) / 3 / p.ticksPerUnit).toFixed(8);

/** One REST kline row (PROTOCOLS.md §5.2): 7 strings. */
export function klineRow(p: Profile, raw: RawBar): string[] {
  return [
    String(raw.openMs),
    price(p, raw.o),
    price(p, raw.h),
    price(p, raw.l),
    price(p, raw.c),
    quantity(p, raw.v),
    turnover(p, raw),
  ];
}

/** One kline push (PROTOCOLS.md §5.3) as the text of a frame. */
export function klinePush(
  p: Profile,
  topic: string,
  wireInterval: string,
  interval: Interval,
  raw: RawBar,
  confirm: boolean,
  nowMs: number,
): string {
  const endMs = nextBarOpenMs(interval, raw.openMs) - 1;
  return `{"topic":"${topic}","data":[{"start":${raw.openMs},"end":${endMs},"interval":"${wireInterval}","open":"${price(p, raw.o)}","close":"${price(p, raw.c)}","high":"${price(p, raw.h)}","low":"${price(p, raw.l)}","volume":"${quantity(p, raw.v)}","turnover":"${turnover(p, raw)}","confirm":${confirm},"timestamp":${nowMs}}],"ts":${nowMs},"type":"snapshot"}`;
}

/** A push-shaped frame with wrong field types, for the malformed-frame fault. */
export function wrongTypesPush(topic: string, nowMs: number): string {
  return `{"topic":"${topic}","data":[{"start":"soon","end":null,"interval":5,"open":1.5,"close":true,"high":[],"low":{},"volume":-1,"confirm":"yes","timestamp":"${nowMs}"}],"ts":"${nowMs}","type":"snapshot"}`;
}
