// Bybit v5 Spot REST (PROTOCOLS.md §5.2): market/time, market/instruments-info, market/kline,
// with the 600 requests / 5 s limit whose excess is a 403 and a ban of the IP.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { barOpenMs } from '../calendar.js';
import { binanceListing } from '../catalog.js';
import type { SimClock } from '../clock.js';
import type { FailStatus } from '../faults.js';
import { sendJson, type VenueHandlers } from '../http-server.js';
import type { Market } from '../market.js';
import type { RawBar } from '../model.js';
import type { Stats } from '../stats.js';
import {
  BAN_MS,
  envelope,
  KLINE_DEFAULT_LIMIT,
  KLINE_MAX_LIMIT,
  klineRow,
  REQUEST_WINDOW_MS,
  REQUESTS_PER_WINDOW,
  WIRE_INTERVALS,
} from './protocol.js';

/** The Bybit request limit the simulator enforces (real time; all clients are one IP). */
export interface BybitRequestLimit {
  requests: number;
  windowMs: number;
  /** How long the 403 ban lasts in real ms. */
  banMs: number;
}

/** Default limit: PROTOCOLS.md §5.2. */
export const DEFAULT_BYBIT_LIMIT: BybitRequestLimit = {
  requests: REQUESTS_PER_WINDOW,
  windowMs: REQUEST_WINDOW_MS,
  banMs: BAN_MS,
};

/** What the Bybit REST side needs. */
export interface BybitRestContext {
  clock: SimClock;
  market: Market;
  symbols: ReadonlySet<string>;
  limit: BybitRequestLimit;
  /**
   * Counts each request the limit refuses with the 403 ban, as `rateLimitRefusals(418,
   * 'bybit')` (Bybit's ban is its 403; injected faults are not counted).
   */
  stats?: Stats;
}

const INTEGER = /^\d{1,20}$/;

class ParamError {
  constructor(readonly retMsg: string) {}
}

/** The request and failure handlers of the Bybit REST server. */
export function bybitRest(ctx: BybitRestContext): Pick<VenueHandlers, 'request' | 'failure'> {
  let recent: number[] = [];
  let bannedUntilReal = 0;
  const routes: Record<string, (q: URLSearchParams) => unknown> = {
    '/v5/market/time': () => {
      const nowMs = ctx.clock.now();
      return {
        timeSecond: String(Math.floor(nowMs / 1000)),
        timeNano: `${nowMs}000000`,
      };
    },
    '/v5/market/instruments-info': (q) => instruments(ctx, q),
    '/v5/market/kline': (q) => kline(ctx, q),
  };
  return {
    request(_req: IncomingMessage, res: ServerResponse, url: URL) {
      const realMs = performance.now();
      if (realMs < bannedUntilReal) {
        ctx.stats?.countRateLimitRefusal('bybit', 418);
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('access too frequent');
        return;
      }
      recent = recent.filter((t) => t > realMs - ctx.limit.windowMs);
      recent.push(realMs);
      if (recent.length > ctx.limit.requests) {
        // PROTOCOLS.md §5.2: 403 "access too frequent", the IP blocked for ≥ 10 minutes.
        bannedUntilReal = realMs + ctx.limit.banMs;
        ctx.stats?.countRateLimitRefusal('bybit', 418);
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('access too frequent');
        return;
      }
      const headers = {
        'X-Bapi-Limit': String(ctx.limit.requests),
        'X-Bapi-Limit-Status': String(Math.max(0, ctx.limit.requests - recent.length)),
        'X-Bapi-Limit-Reset-Timestamp': String(
          ctx.clock.now() + Math.round(ctx.limit.windowMs * ctx.clock.speed),
        ),
      };
      const route = routes[url.pathname];
      const nowMs = ctx.clock.now();
      if (!route) {
        sendJson(res, 404, { retCode: 404, retMsg: `path ${url.pathname} not found` });
        return;
      }
      try {
        sendJson(res, 200, envelope(nowMs, route(url.searchParams)), headers);
      } catch (err) {
        if (!(err instanceof ParamError)) throw err;
        // PROTOCOLS.md §5.2: errors are HTTP 200 with retCode ≠ 0.
        sendJson(res, 200, envelope(nowMs, {}, 10001, err.retMsg), headers);
      }
    },
    failure(res: ServerResponse, status: FailStatus, retryAfterSec: number) {
      const nowMs = ctx.clock.now();
      if (status === 418) {
        // Bybit has no 418: a forced ban is its 403.
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('access too frequent');
      } else if (status === 429) {
        sendJson(res, 429, envelope(nowMs, {}, 10006, 'Too many visits!'), {
          'Retry-After': String(retryAfterSec),
        });
      } else {
        sendJson(res, status, envelope(nowMs, {}, 10016, 'Internal server error.'));
      }
    },
  };
}

function requireSpot(query: URLSearchParams): void {
  const category = query.get('category');
  // PROTOCOLS.md §5.2: the default category is `linear`; we serve spot only, so a client that
  // forgets `category=spot` is told (our choice: real Bybit would answer linear data).
  if (category !== 'spot') throw new ParamError(`params error: category only supports spot`);
}

function instruments(ctx: BybitRestContext, query: URLSearchParams): unknown {
  requireSpot(query);
  const symbol = query.get('symbol');
  const list = (symbol === null ? [...ctx.symbols] : ctx.symbols.has(symbol) ? [symbol] : [])
    // Only trading pairs are listed (PROTOCOLS.md §5.2: `Trading` is the only spot status).
    .filter((s) => binanceListing(s).status === 'TRADING')
    .map((s) => {
      const listing = binanceListing(s);
      const profile = ctx.market.binanceProfile(s);
      return {
        symbol: s,
        baseCoin: listing.baseAsset,
        quoteCoin: listing.quoteAsset,
        status: 'Trading',
        priceFilter: { tickSize: String(1 / profile.ticksPerUnit) },
      };
    });
  return { category: 'spot', list };
}

function integer(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!INTEGER.test(value)) throw new ParamError(`params error: ${name} invalid`);
  return Number(value);
}

function kline(ctx: BybitRestContext, query: URLSearchParams): unknown {
  requireSpot(query);
  const symbol = query.get('symbol') ?? '';
  if (!ctx.symbols.has(symbol)) throw new ParamError('params error: symbol invalid');
  const wire = query.get('interval') ?? '';
  const interval = WIRE_INTERVALS[wire];
  if (!Object.hasOwn(WIRE_INTERVALS, wire) || !interval) {
    throw new ParamError('params error: interval invalid');
  }
  const startMs = integer(query, 'start');
  const endMs = integer(query, 'end');
  const limit = integer(query, 'limit') ?? KLINE_DEFAULT_LIMIT;
  if (limit < 1 || limit > KLINE_MAX_LIMIT) throw new ParamError('params error: limit invalid');
  const nowMs = ctx.clock.now();
  const profile = ctx.market.binanceProfile(symbol);
  const tradingEndMs = binanceListing(symbol).tradingEndMs ?? Number.POSITIVE_INFINITY;
  // Bounds select by start time, both inclusive ([unverified] in PROTOCOLS.md §5.2: our choice).
  // The newest `limit` bars of the range come back, newest first, the forming one included.
  const toMs = Math.min(endMs ?? nowMs, nowMs, tradingEndMs - 1);
  const fromMs = startMs ?? Number.NEGATIVE_INFINITY;
  const rows: RawBar[] = [];
  for (
    let openMs = barOpenMs(interval, toMs);
    rows.length < limit && openMs >= fromMs;
    openMs = barOpenMs(interval, openMs - 1)
  ) {
    const raw = ctx.market.binanceRaw(profile, interval, openMs, nowMs);
    if (raw) rows.push(raw);
  }
  return { category: 'spot', symbol, list: rows.map((raw) => klineRow(profile, raw)) };
}
