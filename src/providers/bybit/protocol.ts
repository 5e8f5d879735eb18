// Bybit v5 Spot public market data: endpoints, limits, wire names and error bodies
// (PROTOCOLS.md §5). Numbers are the venue's unless marked "our choice".

import { BYBIT_INTERVALS as BYBIT_INTERVALS_OF_CONFIG } from '../../config/schemas.js';
import type { ErrorCode } from '../../core/errors.js';
import type { Interval } from '../../core/types.js';
import type { ErrorBodyInfo } from '../../http/request.js';

/** PROTOCOLS.md §5.1: production REST base. */
export const BYBIT_REST_URL = 'https://api.bybit.com';
/** PROTOCOLS.md §5.1: production WebSocket base (public spot at {@link BYBIT_SPOT_PATH}). */
export const BYBIT_WS_URL = 'wss://stream.bybit.com';
/** PROTOCOLS.md §5.1: testnet REST base. */
export const BYBIT_TESTNET_REST_URL = 'https://api-testnet.bybit.com';
/** PROTOCOLS.md §5.1: testnet WebSocket base. */
export const BYBIT_TESTNET_WS_URL = 'wss://stream-testnet.bybit.com';
/** PROTOCOLS.md §5.1: path of the public spot socket. */
export const BYBIT_SPOT_PATH = '/v5/public/spot';

/** PROTOCOLS.md §5.2 kline: the largest `limit`. */
export const KLINE_PAGE_LIMIT = 1000;
/** PROTOCOLS.md §5.2: 600 requests per 5 s per IP (every endpoint costs 1). */
export const REQUESTS_PER_WINDOW = 600;
/** PROTOCOLS.md §5.2: the request window. */
export const REQUEST_WINDOW_MS = 5000;
/** PROTOCOLS.md §5.2: a 403 blocks the IP for at least 10 minutes. */
export const BAN_MS = 10 * 60_000;
/** PROTOCOLS.md §5.3: at most 10 args per subscribe request. */
export const MAX_TOPICS_PER_SUBSCRIBE = 10;
/**
 * Our choice: topics per socket. PROTOCOLS.md §5.3 caps args at 21,000 characters per
 * connection; 200 topics of at most ~45 characters stay far below it.
 */
export const MAX_TOPICS_PER_CONNECTION = 200;
/** PROTOCOLS.md §5.3: the client pings every 20 s with this text. */
export const PING_TEXT = '{"op":"ping"}';
/** Our choice: how long to wait for the ack of one subscribe request. */
export const SUBSCRIBE_REPLY_TIMEOUT_MS = 10_000;

/** PROTOCOLS.md §5.2: `retCode`s we branch on. */
export const BYBIT_RET_CODE = { OK: 0, PARAMS: 10001, TOO_MANY_VISITS: 10006 } as const;

/**
 * PROTOCOLS.md §5.3: our intervals and their wire names. Bybit has no `1s`, `8h` or `3d`.
 * `D`/`W`/`M` alignment (UTC day, week from Monday, calendar month) is [unverified].
 */
export const BYBIT_INTERVALS: Readonly<Partial<Record<Interval, string>>> = {
  '1m': '1',
  '3m': '3',
  '5m': '5',
  '15m': '15',
  '30m': '30',
  '1h': '60',
  '2h': '120',
  '4h': '240',
  '6h': '360',
  '12h': '720',
  '1d': 'D',
  '1w': 'W',
  '1M': 'M',
};

/** The intervals Bybit serves, shortest first (the config schema's list). */
export const BYBIT_INTERVAL_LIST: readonly Interval[] = BYBIT_INTERVALS_OF_CONFIG;

/** The wire name of `interval`, or undefined when Bybit does not serve it. */
export function bybitWireInterval(interval: Interval): string | undefined {
  return Object.hasOwn(BYBIT_INTERVALS, interval) ? BYBIT_INTERVALS[interval] : undefined;
}

/** PROTOCOLS.md §5.3: topic `kline.{interval}.{symbol}`. */
export function klineTopic(symbol: string, interval: Interval): string {
  return `kline.${BYBIT_INTERVALS[interval] ?? '?'}.${symbol}`;
}

/** PROTOCOLS.md §5.2: the `{retCode, retMsg, result, time}` envelope of every REST answer. */
export interface BybitEnvelope<T> {
  retCode?: unknown;
  retMsg?: unknown;
  result?: T;
  /** Server time in ms. */
  time?: unknown;
}

/** PROTOCOLS.md §5.2 kline result: rows of strings, newest first. */
export interface KlineResult {
  category?: string;
  symbol?: string;
  list?: unknown[];
}

/** PROTOCOLS.md §5.2 instruments-info: the parts we read. */
export interface InstrumentsResult {
  list?: { symbol?: string; status?: string; priceFilter?: { tickSize?: string } }[];
}

/**
 * PROTOCOLS.md §5.2: a 403 is the rate-limit ban ("access too frequent"), not a key problem
 * (public data has no key), so it maps to `IP_BANNED`; a 429 body is an envelope with 10006.
 */
export function readBybitErrorBody(status: number, bodyText: string): ErrorBodyInfo | undefined {
  if (status === 403) {
    return {
      code: 'IP_BANNED' satisfies ErrorCode,
      message: `Bybit blocks this IP for at least ${BAN_MS / 60_000} minutes after more than ${REQUESTS_PER_WINDOW} requests per ${REQUEST_WINDOW_MS / 1000} s (${bodyText.slice(0, 80) || 'access too frequent'}); stop every Bybit request and wait`,
    };
  }
  try {
    const body = JSON.parse(bodyText) as BybitEnvelope<unknown>;
    if (typeof body.retCode !== 'number') return undefined;
    return { message: `${String(body.retMsg ?? 'error')} (Bybit retCode ${body.retCode})` };
  } catch {
    return undefined;
  }
}
