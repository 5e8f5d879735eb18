// OKX v5 Spot numbers and wire types (PROTOCOLS.md §6), in one place.

import type { ErrorCode } from '../../core/errors.js';
import type { Interval } from '../../core/types.js';
import type { ErrorBodyInfo } from '../../http/request.js';

/** PROTOCOLS.md §6.1: REST host (demo: the same host plus {@link DEMO_HEADER}). */
export const OKX_REST_URL = 'https://www.okx.com';
/** PROTOCOLS.md §6.1: WebSocket host; candles live on {@link BUSINESS_PATH}. */
export const OKX_WS_URL = 'wss://ws.okx.com:8443';
/** PROTOCOLS.md §6.1: demo WebSocket host. */
export const OKX_DEMO_WS_URL = 'wss://wspap.okx.com:8443';
/** PROTOCOLS.md §6.1: candles left `/ws/v5/public` on 2023-06-20. */
export const BUSINESS_PATH = '/ws/v5/business';
/** PROTOCOLS.md §6.1: the demo-trading header. */
export const DEMO_HEADER = { 'x-simulated-trading': '1' } as const;

/** PROTOCOLS.md §6.2: `candles` pages of up to 300 bars. */
export const CANDLES_PAGE_LIMIT = 300;
/** PROTOCOLS.md §6.2: `history-candles` pages of 100 (seen in practice). */
export const HISTORY_PAGE_LIMIT = 100;
/** PROTOCOLS.md §6.2: `candles` serves only the latest 1,440 bars. */
export const CANDLES_RECENT_BARS = 1440;
/**
 * Our choice: use `candles` only for bars at least this far inside its 1,440-bar window, so the
 * window cannot slide past a page while the request is under way.
 */
export const RECENT_MARGIN_BARS = 40;

/** PROTOCOLS.md §6.2: rate limits per IP and endpoint (requests per 2 s). */
export const OKX_LIMITS = {
  candles: { limit: 40, windowMs: 2000 },
  historyCandles: { limit: 20, windowMs: 2000 },
  instruments: { limit: 20, windowMs: 2000 },
  time: { limit: 10, windowMs: 2000 },
} as const;
/** The endpoints we call, each with its own limit. */
export type OkxEndpoint = keyof typeof OKX_LIMITS;

/** PROTOCOLS.md §6.2: REST paths. */
export const OKX_PATHS: Readonly<Record<OkxEndpoint, string>> = {
  candles: '/api/v5/market/candles',
  historyCandles: '/api/v5/market/history-candles',
  instruments: '/api/v5/public/instruments',
  time: '/api/v5/public/time',
};

/** Our choice: wait this long after a 50011 answered with HTTP 200 (half the 2 s window). */
export const RATE_LIMIT_PAUSE_MS = 1000;

/** PROTOCOLS.md §6.2 codes we branch on. */
export const OKX_CODE = {
  OK: '0',
  TOO_MANY_REQUESTS: '50011',
  UNKNOWN_INSTRUMENT: '51001',
} as const;
/** PROTOCOLS.md §6.3: a channel or instrument that does not exist on the socket. */
export const WS_NO_SUCH_CHANNEL = '60018';
/** PROTOCOLS.md §6.2: the state of an instrument that trades. */
export const LIVE_STATE = 'live';

/** PROTOCOLS.md §6.3: the client pings with this text; the server answers `pong`. */
export const PING_TEXT = 'ping';
/** PROTOCOLS.md §6.3: 3 new connections per second per IP. */
export const NEW_CONNECTIONS_PER_SECOND = 3;
/** Our choice: instruments per socket (args stay far below the 64 KB limit). */
export const SYMBOLS_PER_CONNECTION = 300;
/** Our choice: how long to wait for the acks of one subscribe. */
export const SUBSCRIBE_REPLY_TIMEOUT_MS = 10_000;

/**
 * PROTOCOLS.md §6.3: our interval → OKX `bar=` / channel suffix. 6h and up use the `…utc` names
 * (the plain ones are aligned to UTC+8); OKX has no 8h.
 */
export const OKX_BARS: Readonly<Partial<Record<Interval, string>>> = {
  '1s': '1s',
  '1m': '1m',
  '3m': '3m',
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1h': '1H',
  '2h': '2H',
  '4h': '4H',
  '6h': '6Hutc',
  '12h': '12Hutc',
  '1d': '1Dutc',
  '3d': '3Dutc',
  '1w': '1Wutc',
  '1M': '1Mutc',
};

/** PROTOCOLS.md §6.2: `{code, msg, data}`; `code` "0" is success. */
export interface OkxEnvelope<T> {
  code?: unknown;
  msg?: unknown;
  data?: T[];
}

/** PROTOCOLS.md §6.2 instrument: the parts we read. */
export interface OkxInstrument {
  instId: string;
  state: string;
  tickSz?: string;
}

/** PROTOCOLS.md §6.2: `{code, msg}` error bodies of 4xx/5xx answers; 51001 → INVALID_SYMBOL. */
export function readOkxErrorBody(_status: number, bodyText: string): ErrorBodyInfo | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, msg } = body as { code?: unknown; msg?: unknown };
  if (typeof code !== 'string') return undefined;
  const message = `${typeof msg === 'string' && msg ? msg : 'error'} (OKX code ${code})`;
  const ours = errorCodeFor(code);
  return ours === undefined ? { message } : { message, code: ours };
}

function errorCodeFor(okxCode: string): ErrorCode | undefined {
  if (okxCode === OKX_CODE.UNKNOWN_INSTRUMENT) return 'INVALID_SYMBOL';
  return undefined;
}
