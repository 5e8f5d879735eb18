// OKX v5 Spot numbers, calendars and wire formats, copied from PROTOCOLS.md §6 (not from our
// client): if either side gets a boundary or a limit wrong, the two disagree and a test fails.

import { binanceListing } from '../catalog.js';
import type { Profile, RawBar } from '../model.js';

/** PROTOCOLS.md §6.2: `limit` default. */
export const CANDLES_DEFAULT_LIMIT = 100;
/** PROTOCOLS.md §6.2: `limit` ≤ 300 on `candles`. */
export const CANDLES_MAX_LIMIT = 300;
/** PROTOCOLS.md §6.2: `history-candles` pages of 100 (what is seen in practice). */
export const HISTORY_MAX_LIMIT = 100;
/** PROTOCOLS.md §6.2: `candles` serves only the latest 1,440 bars. */
export const CANDLES_RECENT_BARS = 1440;
/** PROTOCOLS.md §6.2: `1s` history exists only for the last 3 months (our 90 days). */
export const ONE_SECOND_HISTORY_MS = 90 * 86_400_000;
/** PROTOCOLS.md §6.3: the server closes a socket after 30 s without traffic. */
export const IDLE_CLOSE_MS = 30_000;
/** PROTOCOLS.md §6.3: close code of that cut. */
export const IDLE_CLOSE_CODE = 4004;
/** PROTOCOLS.md §6.3: 3 new connections per second per IP. */
export const NEW_CONNECTIONS_PER_SECOND = 3;
/** Our choice: in-progress pushes every 1 s of sim time (the venue: at most one per second). */
export const UPDATE_INTERVAL_MS = 1000;

/** One OKX REST limit (requests per window, counted per IP in real time). */
export interface OkxLimit {
  requests: number;
  windowMs: number;
}

/** PROTOCOLS.md §6.2 rate limits per IP, per endpoint. */
export const DEFAULT_OKX_LIMITS = {
  candles: { requests: 40, windowMs: 2000 },
  historyCandles: { requests: 20, windowMs: 2000 },
  instruments: { requests: 20, windowMs: 2000 },
  time: { requests: 10, windowMs: 2000 },
} as const satisfies Record<string, OkxLimit>;

/** PROTOCOLS.md §6.2 error codes. */
export const OKX_CODE = {
  OK: '0',
  TOO_MANY_REQUESTS: '50011',
  SERVICE_UNAVAILABLE: '50001',
  EMPTY_PARAMETER: '50014',
  PARAMETER_ERROR: '51000',
  UNKNOWN_INSTRUMENT: '51001',
} as const;

/** PROTOCOLS.md §6.3: an invalid request on the socket. */
export const WS_INVALID_REQUEST = '60012';
/** PROTOCOLS.md §6.1: a channel that does not exist on this URL (or for this instrument). */
export const WS_NO_SUCH_CHANNEL = '60018';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** PROTOCOLS.md §6.3: the plain 6H-and-up channels are aligned to UTC+8. */
const UTC8 = 8 * HOUR;

/** How one `bar=` / channel name cuts time. */
export interface BarSpec {
  name: string;
  /** Fixed length, epoch-aligned in the bar's time zone; or calendar weeks / months. */
  kind: 'fixed' | 'week' | 'month';
  /** `fixed`: ms; `week`: 1; `month`: months per bar. */
  size: number;
  /** 0 for UTC, 8 h for the plain names of 6H and up. */
  offsetMs: number;
}

function spec(name: string, kind: BarSpec['kind'], size: number, offsetMs = 0): BarSpec {
  return { name, kind, size, offsetMs };
}

/**
 * PROTOCOLS.md §6.3: every channel (`candle` + name) and REST `bar=` value. Up to 4H UTC; the
 * plain 6H+ names UTC+8; the `utc` variants UTC. `3Dutc` and `2D`/`5D` are taken as epoch
 * multiples of their length (the venue's anchor is not documented; our choice).
 */
export const BAR_SPECS: Readonly<Record<string, BarSpec>> = Object.fromEntries(
  [
    spec('1s', 'fixed', 1000),
    spec('1m', 'fixed', MINUTE),
    spec('3m', 'fixed', 3 * MINUTE),
    spec('5m', 'fixed', 5 * MINUTE),
    spec('15m', 'fixed', 15 * MINUTE),
    spec('30m', 'fixed', 30 * MINUTE),
    spec('1H', 'fixed', HOUR),
    spec('2H', 'fixed', 2 * HOUR),
    spec('4H', 'fixed', 4 * HOUR),
    spec('6H', 'fixed', 6 * HOUR, UTC8),
    spec('12H', 'fixed', 12 * HOUR, UTC8),
    spec('1D', 'fixed', DAY, UTC8),
    spec('2D', 'fixed', 2 * DAY, UTC8),
    spec('3D', 'fixed', 3 * DAY, UTC8),
    spec('5D', 'fixed', 5 * DAY, UTC8),
    spec('1W', 'week', 1, UTC8),
    spec('1M', 'month', 1, UTC8),
    spec('3M', 'month', 3, UTC8),
    spec('6Hutc', 'fixed', 6 * HOUR),
    spec('12Hutc', 'fixed', 12 * HOUR),
    spec('1Dutc', 'fixed', DAY),
    spec('3Dutc', 'fixed', 3 * DAY),
    spec('1Wutc', 'week', 1),
    spec('1Mutc', 'month', 1),
  ].map((s) => [s.name, s]),
);

/** The bar spec of a `bar=` value or channel suffix (case-sensitive), or undefined. */
export function barSpec(name: string): BarSpec | undefined {
  return Object.hasOwn(BAR_SPECS, name) ? BAR_SPECS[name] : undefined;
}

const mod = (value: number, divisor: number): number => ((value % divisor) + divisor) % divisor;

/** Open time (UTC epoch ms) of the bar of `s` that contains `timeMs`. */
export function okxBarOpenMs(s: BarSpec, timeMs: number): number {
  const local = timeMs + s.offsetMs;
  let openLocal: number;
  if (s.kind === 'fixed') {
    openLocal = local - mod(local, s.size);
  } else if (s.kind === 'week') {
    // Weeks open on Monday (1970-01-01 was a Thursday).
    openLocal = local - mod(local - 4 * DAY, 7 * DAY);
  } else {
    const d = new Date(local);
    const month = d.getUTCMonth() - (d.getUTCMonth() % s.size);
    openLocal = Date.UTC(d.getUTCFullYear(), month, 1);
  }
  return openLocal - s.offsetMs;
}

/** Open time of the bar after the one containing `timeMs`. */
export function okxNextOpenMs(s: BarSpec, timeMs: number): number {
  const openMs = okxBarOpenMs(s, timeMs);
  if (s.kind === 'fixed') return openMs + s.size;
  if (s.kind === 'week') return openMs + 7 * DAY;
  const d = new Date(openMs + s.offsetMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + s.size, 1) - s.offsetMs;
}

/** PROTOCOLS.md §6.2 instrument `state` values the simulator uses. */
export type OkxState = 'live' | 'suspend';

/** One listed instrument and the market symbol whose bars it serves. */
export interface OkxInstrument {
  instId: string;
  baseCcy: string;
  quoteCcy: string;
  state: OkxState;
  /** The simulator's market symbol (the Binance one: same seed, same bars). */
  marketSymbol: string;
  /** Suspended: bars end before this instant and the socket pushes nothing. */
  tradingEndMs?: number;
}

const ASCII_ASSET = /^[A-Z0-9]{1,15}$/;

/**
 * The OKX instruments for the simulator's symbols: `BTCUSDT` → `BTC-USDT` (PROTOCOLS.md §6.1
 * ids are base-quote with a dash). A delisted pair is removed (§6.2); a paused one is `suspend`.
 */
export function okxInstruments(symbols: Iterable<string>): Map<string, OkxInstrument> {
  const out = new Map<string, OkxInstrument>();
  for (const symbol of symbols) {
    const listing = binanceListing(symbol);
    if (!ASCII_ASSET.test(listing.baseAsset) || !ASCII_ASSET.test(listing.quoteAsset)) continue;
    if (listing.status === 'BREAK') continue;
    const instId = `${listing.baseAsset}-${listing.quoteAsset}`;
    out.set(instId, {
      instId,
      baseCcy: listing.baseAsset,
      quoteCcy: listing.quoteAsset,
      state: listing.status === 'TRADING' ? 'live' : 'suspend',
      marketSymbol: symbol,
      ...(listing.tradingEndMs === undefined ? {} : { tradingEndMs: listing.tradingEndMs }),
    });
  }
  return out;
}

const price = (p: Profile, ticks: number): string => String(ticks / p.ticksPerUnit);

/**
 * PROTOCOLS.md §6.2/§6.3: the 9 strings of a candle, REST and WebSocket alike:
 * `[ts, o, h, l, c, vol (base), volCcy (quote), volCcyQuote, confirm]`.
 */
export function candleRow(p: Profile, raw: RawBar, confirm: boolean): string[] {
  const quote = (((raw.v / p.lotsPerUnit) * (raw.h + raw.l + raw.c)) / 3 / p.ticksPerUnit).toFixed(
    8,
  );
  return [
    String(raw.openMs),
    price(p, raw.o),
    price(p, raw.h),
    price(p, raw.l),
    price(p, raw.c),
    String(raw.v / p.lotsPerUnit),
    quote,
    quote,
    confirm ? '1' : '0',
  ];
}

/** A candle push (PROTOCOLS.md §6.3) as the text of a frame. */
export function candlePush(channel: string, instId: string, row: readonly string[]): string {
  return `{"arg":{"channel":"${channel}","instId":"${instId}"},"data":[${JSON.stringify(row)}]}`;
}

/** A push-shaped frame with wrong field types, for the malformed-frame fault. */
export function wrongTypesPush(channel: string, instId: string): string {
  return `{"arg":{"channel":"${channel}","instId":"${instId}"},"data":[[1597026383085,8533.02,null,"x",{},-1,"","",1]]}`;
}

/** `{code, msg, data}` envelope (PROTOCOLS.md §6.2). */
export function envelope(data: unknown[], code: string = OKX_CODE.OK, msg = ''): unknown {
  return { code, msg, data };
}
