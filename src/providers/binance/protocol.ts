import type { ErrorCode } from '../../core/errors.js';
import type { ErrorBodyInfo } from '../../http/request.js';

/** PROTOCOLS.md §1.1: production REST base. */
export const BINANCE_REST_URL = 'https://api.binance.com';
/** PROTOCOLS.md §1.1: production WebSocket base (port 9443). */
export const BINANCE_WS_URL = 'wss://stream.binance.com:9443';
/** PROTOCOLS.md §1.1: Spot testnet REST base (paths `/api/v3/...` as in production). */
export const BINANCE_TESTNET_REST_URL = 'https://testnet.binance.vision';
/** PROTOCOLS.md §1.1: Spot testnet WebSocket base, primary host since 2024-05-30. */
export const BINANCE_TESTNET_WS_URL = 'wss://stream.testnet.binance.vision';

/** PROTOCOLS.md §1.5 klines: max bars per request. */
export const KLINES_PAGE_LIMIT = 1000;
/** PROTOCOLS.md §1.3: REQUEST_WEIGHT per minute since 2023-08-25 (until exchangeInfo says otherwise). */
export const DEFAULT_WEIGHT_LIMIT = 6000;
/** PROTOCOLS.md §1.3: the REQUEST_WEIGHT window, one minute (counted per IP). */
export const WEIGHT_WINDOW_MS = 60_000;
/** PROTOCOLS.md §1.5: request weight of each endpoint we call. */
export const REQUEST_WEIGHT = { time: 1, exchangeInfo: 20, klines: 2 } as const;
/** PROTOCOLS.md §1.6 limits: streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;
/**
 * Third-party probes [obs]: stream.binance.com rejects WebSocket URLs longer than about 8004
 * characters. Our choice: keep the combined-stream URL well under that and SUBSCRIBE the rest.
 */
export const MAX_STREAM_URL_LENGTH = 4000;
/** [obs] A SUBSCRIBE of ~437 streams fails silently; our choice: at most 200 per message. */
export const SUBSCRIBE_BATCH = 200;
/**
 * PROTOCOLS.md §1.6: 5 incoming messages/s per connection, pings and pongs included. We send at
 * most 3 control messages in any second, so our own ping and the pong to the server's ping can
 * fall in the same second of a multi-SUBSCRIBE handshake without the server cutting it (1008).
 */
export const CONTROL_MESSAGE_GAP_MS = 334;
/** Our choice: how long to wait for the reply to one SUBSCRIBE. */
export const SUBSCRIBE_REPLY_TIMEOUT_MS = 10_000;
/** PROTOCOLS.md §1.6 limits: the server cuts a connection after 24 h. */
export const CONNECTION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Our choice: rotate this long before the cut (default `maxConnectionAgeMs` = 23 h 50 min). */
export const ROTATE_BEFORE_CUT_MS = 10 * 60 * 1000;
/** Our choice: symbols per `exchangeInfo?symbols=` request (keeps the URL short). */
export const EXCHANGE_INFO_BATCH = 100;

/** PROTOCOLS.md §1.4: error codes we branch on. */
export const BINANCE_ERROR = {
  TOO_MANY_REQUESTS: -1003,
  ILLEGAL_CHARS: -1100,
  BAD_INTERVAL: -1120,
  BAD_SYMBOL: -1121,
} as const;

/** PROTOCOLS.md §1.5 klines: one row, 12 elements; prices and volumes are strings. */
export type KlineRow = [
  openTimeMs: number,
  open: string,
  high: string,
  low: string,
  close: string,
  volume: string,
  closeTimeMs: number,
  quoteVolume: string,
  trades: number,
  takerBuyBase: string,
  takerBuyQuote: string,
  unused: string,
];

/** PROTOCOLS.md §1.5 exchangeInfo: the parts we read; unknown fields are ignored. */
/**
 * PROTOCOLS.md §1.5 exchangeInfo `status` of a symbol that trades; `BREAK` (delisted) and `HALT`
 * (paused) pairs stay listed, with silent streams and history up to the pause.
 */
export const TRADING_STATUS = 'TRADING';

export interface ExchangeInfo {
  serverTime?: number;
  rateLimits?: { rateLimitType: string; interval: string; intervalNum: number; limit: number }[];
  symbols?: {
    symbol: string;
    status: string;
    baseAsset?: string;
    quoteAsset?: string;
    /** `PRICE_FILTER` carries `tickSize` as a decimal string, e.g. `"0.01000000"` [doc]. */
    filters?: { filterType: string; tickSize?: string }[];
  }[];
}

/** PROTOCOLS.md §1.6 kline event (`k` holds the bar; `x` marks the final update). */
export interface KlineEvent {
  e: 'kline';
  E: number;
  s: string;
  k: {
    t: number;
    T: number;
    s: string;
    i: string;
    o: string;
    c: string;
    h: string;
    l: string;
    v: string;
    x: boolean;
  };
}

/**
 * PROTOCOLS.md §1.4: Binance error bodies are `{"code": <negative int>, "msg": <string>}`;
 * branch on `code`, never on the text.
 */
export function readBinanceErrorBody(_status: number, bodyText: string): ErrorBodyInfo | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, msg } = body as { code?: unknown; msg?: unknown };
  if (typeof code !== 'number') return undefined;
  const message = `${typeof msg === 'string' ? msg : 'error'} (Binance code ${code})`;
  const ours = errorCodeFor(code);
  return ours === undefined ? { message } : { message, code: ours };
}

function errorCodeFor(binanceCode: number): ErrorCode | undefined {
  if (binanceCode === BINANCE_ERROR.BAD_SYMBOL || binanceCode === BINANCE_ERROR.ILLEGAL_CHARS) {
    return 'INVALID_SYMBOL';
  }
  if (binanceCode === BINANCE_ERROR.BAD_INTERVAL) return 'INVALID_INTERVAL';
  return undefined;
}

/** PROTOCOLS.md §1.6: stream names are lower case, `<symbol>@kline_<interval>`. */
export function klineStreamName(symbol: string, interval: string): string {
  return `${symbol.toLowerCase()}@kline_${interval}`;
}
