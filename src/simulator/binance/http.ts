// Binance Spot REST (PROTOCOLS.md §1.2–1.5): ping, time, exchangeInfo, klines, ticker/price.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interval } from '../../core/types.js';
import { barOpenMs, isExchangeInterval, nominalLengthMs } from '../calendar.js';
import { binanceListing } from '../catalog.js';
import type { SimClock } from '../clock.js';
import type { FailStatus } from '../faults.js';
import { sendJson, type VenueHandlers } from '../http-server.js';
import type { Market } from '../market.js';
import type { Stats } from '../stats.js';
import {
  type BinanceError,
  errors,
  KLINES_DEFAULT_LIMIT,
  KLINES_MAX_LIMIT,
  klineRow,
  SYMBOL_PATTERN,
  WEIGHT,
} from './protocol.js';
import { WeightBudget } from './weight.js';

/** What the Binance REST side needs. */
export interface BinanceRestContext {
  clock: SimClock;
  market: Market;
  symbols: ReadonlySet<string>;
  weightLimit: number;
  /** Counts the requests the weight limit refused (optional for callers that do not count). */
  stats?: Stats;
}

const INTEGER = /^-?\d{1,20}$/;

class BadRequest {
  constructor(readonly body: BinanceError) {}
}

/** The request and failure handlers of the Binance REST server. */
export function binanceRest(ctx: BinanceRestContext): Pick<VenueHandlers, 'request' | 'failure'> {
  const budget = new WeightBudget(ctx.weightLimit, ctx.clock);
  const weightHeaders = (used: number): Record<string, string> => ({
    // PROTOCOLS.md §1.3: live traffic sends the lower-case `1m` suffix plus the bare name.
    'X-MBX-USED-WEIGHT-1m': String(used),
    'X-MBX-USED-WEIGHT': String(used),
  });

  const routes: Record<string, { weight: (q: URLSearchParams) => number; run: Handler }> = {
    '/api/v3/ping': { weight: () => WEIGHT.ping, run: () => ({}) },
    '/api/v3/time': { weight: () => WEIGHT.time, run: () => ({ serverTime: ctx.clock.now() }) },
    '/api/v3/exchangeInfo': { weight: () => WEIGHT.exchangeInfo, run: (q) => exchangeInfo(ctx, q) },
    '/api/v3/klines': { weight: () => WEIGHT.klines, run: (q) => klines(ctx, q) },
    '/api/v3/ticker/price': {
      weight: (q) => (q.has('symbol') ? WEIGHT.tickerOne : WEIGHT.tickerMany),
      run: (q) => tickerPrice(ctx, q),
    },
  };

  return {
    request(_req: IncomingMessage, res: ServerResponse, url: URL) {
      const route = routes[url.pathname];
      if (!route) {
        sendJson(res, 404, { code: -1000, msg: `Unknown path ${url.pathname}.` });
        return;
      }
      const charge = budget.charge(route.weight(url.searchParams));
      if (!charge.ok) {
        ctx.stats?.countRateLimitRefusal('binance', charge.status);
        sendJson(res, charge.status, charge.body, {
          ...weightHeaders(charge.used),
          'Retry-After': String(charge.retryAfterSec),
        });
        return;
      }
      try {
        sendJson(res, 200, route.run(url.searchParams), weightHeaders(charge.used));
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        sendJson(res, 400, err.body, weightHeaders(charge.used));
      }
    },
    failure(res: ServerResponse, status: FailStatus, retryAfterGiven: number | undefined) {
      const retryAfterSec = retryAfterGiven ?? 1;
      const headers = weightHeaders(budget.used());
      const nowMs = ctx.clock.now();
      if (status === 429 || status === 418) {
        const body =
          status === 429
            ? errors.tooMuchWeight(ctx.weightLimit)
            : errors.banned(nowMs + retryAfterSec * 1000 * ctx.clock.speed);
        sendJson(res, status, body, { ...headers, 'Retry-After': String(retryAfterSec) });
      } else {
        sendJson(res, status, status === 500 ? errors.unknown() : errors.busy(), headers);
      }
    },
  };
}

type Handler = (query: URLSearchParams) => unknown;

function requireSymbol(ctx: BinanceRestContext, value: string | null): string {
  if (!value) throw new BadRequest(errors.mandatory('symbol'));
  if (!SYMBOL_PATTERN.test(value)) throw new BadRequest(errors.illegalSymbol());
  if (!ctx.symbols.has(value)) throw new BadRequest(errors.badSymbol());
  return value;
}

function symbolList(ctx: BinanceRestContext, query: URLSearchParams): string[] | undefined {
  const single = query.get('symbol');
  const many = query.get('symbols');
  if (single !== null && many !== null) throw new BadRequest(errors.combination());
  if (single !== null) return [requireSymbol(ctx, single)];
  if (many === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(many);
  } catch {
    throw new BadRequest(errors.invalidParam('symbols'));
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new BadRequest(errors.invalidParam('symbols'));
  }
  return parsed.map((s) => requireSymbol(ctx, typeof s === 'string' ? s : ''));
}

function exchangeInfo(ctx: BinanceRestContext, query: URLSearchParams): unknown {
  const symbols = symbolList(ctx, query) ?? [...ctx.symbols];
  return {
    timezone: 'UTC',
    serverTime: ctx.clock.now(),
    rateLimits: [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        intervalNum: 1,
        limit: ctx.weightLimit,
      },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 1, limit: 10 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: symbols.map((symbol) => {
      const listing = binanceListing(symbol);
      const profile = ctx.market.binanceProfile(symbol);
      return {
        symbol,
        status: listing.status,
        baseAsset: listing.baseAsset,
        baseAssetPrecision: 8,
        quoteAsset: listing.quoteAsset,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
        icebergAllowed: true,
        ocoAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          {
            filterType: 'PRICE_FILTER',
            minPrice: (1 / profile.ticksPerUnit).toFixed(8),
            maxPrice: '1000000.00000000',
            tickSize: (1 / profile.ticksPerUnit).toFixed(8),
          },
          {
            filterType: 'LOT_SIZE',
            minQty: '0.00000001',
            maxQty: '9000000.00000000',
            stepSize: '0.00000001',
          },
        ],
        permissions: [],
        permissionSets: [['SPOT']],
      };
    }),
  };
}

function optionalInteger(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!INTEGER.test(value)) throw new BadRequest(errors.illegalNumber(name));
  return Number(value);
}

function klines(ctx: BinanceRestContext, query: URLSearchParams): unknown {
  const symbol = query.get('symbol');
  if (!symbol) throw new BadRequest(errors.mandatory('symbol'));
  if (!SYMBOL_PATTERN.test(symbol)) throw new BadRequest(errors.illegalSymbol());
  const interval = query.get('interval');
  if (!interval) throw new BadRequest(errors.mandatory('interval'));
  if (!isExchangeInterval(interval)) throw new BadRequest(errors.badInterval());
  requireSymbol(ctx, symbol);
  const startMs = optionalInteger(query, 'startTime');
  const endMs = optionalInteger(query, 'endTime');
  const requested = optionalInteger(query, 'limit') ?? KLINES_DEFAULT_LIMIT;
  if (requested < 1) throw new BadRequest(errors.invalidParam('limit'));
  const limit = Math.min(requested, KLINES_MAX_LIMIT);
  if (startMs !== undefined && endMs !== undefined && startMs > endMs) {
    throw new BadRequest(errors.startAfterEnd());
  }
  const nowMs = ctx.clock.now();
  const profile = ctx.market.binanceProfile(symbol);
  let fromMs = startMs;
  // A delisted or paused pair has history only up to its pause (PROTOCOLS.md §1.5).
  const tradingEndMs = binanceListing(symbol).tradingEndMs ?? Number.POSITIVE_INFINITY;
  const toMs = Math.min(endMs ?? nowMs, nowMs, tradingEndMs - 1);
  if (fromMs === undefined) {
    // No startTime: the newest `limit` bars up to endTime (or now), the open one included.
    fromMs = stepBack(interval, barOpenMs(interval, toMs), limit - 1);
  }
  return ctx.market
    .binanceRawRange(profile, interval, fromMs, toMs, nowMs, limit)
    .map((raw) => klineRow(profile, interval, raw));
}

function stepBack(interval: Interval, openMs: number, count: number): number {
  if (interval !== '1M') return openMs - count * nominalLengthMs(interval);
  let t = openMs;
  for (let i = 0; i < count; i++) t = barOpenMs('1M', t - 1);
  return t;
}

function tickerPrice(ctx: BinanceRestContext, query: URLSearchParams): unknown {
  const symbols = symbolList(ctx, query);
  const nowMs = ctx.clock.now();
  const priceOf = (symbol: string): { symbol: string; price: string } => {
    const profile = ctx.market.binanceProfile(symbol);
    const bar = ctx.market.binanceRaw(profile, '1s', barOpenMs('1s', nowMs), nowMs);
    return { symbol, price: ((bar?.c ?? 0) / profile.ticksPerUnit).toFixed(8) };
  };
  if (query.has('symbol')) return priceOf(symbols?.[0] ?? '');
  return (symbols ?? [...ctx.symbols]).map(priceOf);
}
