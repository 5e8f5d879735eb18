// OKX v5 Spot REST (PROTOCOLS.md §6.2): public/time, public/instruments, market/candles and
// market/history-candles, newest first with the forming bar, exclusive `after`/`before`, and
// per-endpoint limits whose excess is 50011.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimClock } from '../clock.js';
import type { FailStatus } from '../faults.js';
import { sendJson, type VenueHandlers } from '../http-server.js';
import type { Market } from '../market.js';
import type { Stats } from '../stats.js';
import {
  type BarSpec,
  barSpec,
  CANDLES_DEFAULT_LIMIT,
  CANDLES_MAX_LIMIT,
  CANDLES_RECENT_BARS,
  candleRow,
  type DEFAULT_OKX_LIMITS,
  envelope,
  HISTORY_MAX_LIMIT,
  OKX_CODE,
  type OkxInstrument,
  type OkxLimit,
  ONE_SECOND_HISTORY_MS,
  okxBarOpenMs,
  okxNextOpenMs,
} from './protocol.js';

/** The OKX REST limits the simulator enforces, per endpoint (real time; one IP). */
export type OkxRequestLimits = Record<keyof typeof DEFAULT_OKX_LIMITS, OkxLimit>;

/** What the OKX REST side needs. */
export interface OkxRestContext {
  clock: SimClock;
  market: Market;
  instruments: ReadonlyMap<string, OkxInstrument>;
  limits: OkxRequestLimits;
  stats: Stats;
}

const INTEGER = /^\d{1,20}$/;
/** Our choice: open times without a bar one request walks past at most. */
const MAX_MISSING_STEPS = 100_000;

/** A request error: HTTP status, OKX code and message. */
class OkxError {
  constructor(
    readonly code: string,
    readonly msg: string,
    readonly status = 200,
  ) {}
}

interface Route {
  limit: keyof OkxRequestLimits;
  handle(query: URLSearchParams): unknown[];
}

/** The request and failure handlers of the OKX REST server. */
export function okxRest(ctx: OkxRestContext): Pick<VenueHandlers, 'request' | 'failure'> {
  const recent: Record<keyof OkxRequestLimits, number[]> = {
    candles: [],
    historyCandles: [],
    instruments: [],
    time: [],
  };
  const routes: Record<string, Route> = {
    '/api/v5/public/time': { limit: 'time', handle: () => [{ ts: String(ctx.clock.now()) }] },
    '/api/v5/public/instruments': { limit: 'instruments', handle: (q) => instruments(ctx, q) },
    '/api/v5/market/candles': { limit: 'candles', handle: (q) => candles(ctx, q, false) },
    '/api/v5/market/history-candles': {
      limit: 'historyCandles',
      handle: (q) => candles(ctx, q, true),
    },
  };
  return {
    request(_req: IncomingMessage, res: ServerResponse, url: URL) {
      const route = routes[url.pathname];
      if (!route) {
        sendJson(res, 404, { code: '404', msg: `path ${url.pathname} not found`, data: [] });
        return;
      }
      const limit = ctx.limits[route.limit];
      const realMs = performance.now();
      const log = recent[route.limit].filter((t) => t > realMs - limit.windowMs);
      recent[route.limit] = log;
      if (log.length >= limit.requests) {
        // PROTOCOLS.md §6.2: 50011 "Too Many Requests" (HTTP 429); refused requests do not count.
        ctx.stats.countRateLimitRefusal('okx', 429);
        sendJson(res, 429, envelope([], OKX_CODE.TOO_MANY_REQUESTS, 'Too Many Requests'));
        return;
      }
      log.push(realMs);
      try {
        sendJson(res, 200, envelope(route.handle(url.searchParams)));
      } catch (err) {
        if (!(err instanceof OkxError)) throw err;
        sendJson(res, err.status, envelope([], err.code, err.msg));
      }
    },
    failure(res: ServerResponse, status: FailStatus) {
      if (status === 429 || status === 418) {
        // OKX has no ban status: a forced 418 is its 429 too.
        sendJson(res, 429, envelope([], OKX_CODE.TOO_MANY_REQUESTS, 'Too Many Requests'));
      } else {
        sendJson(
          res,
          status,
          envelope([], OKX_CODE.SERVICE_UNAVAILABLE, 'Service temporarily unavailable'),
        );
      }
    },
  };
}

function instruments(ctx: OkxRestContext, query: URLSearchParams): unknown[] {
  const instType = query.get('instType');
  if (instType === null || instType === '') {
    throw new OkxError(OKX_CODE.EMPTY_PARAMETER, 'Parameter instType can not be empty.');
  }
  if (instType !== 'SPOT') {
    // Our choice: the simulator lists spot only, and says so.
    throw new OkxError(OKX_CODE.PARAMETER_ERROR, `Parameter instType error (SPOT only here)`);
  }
  const instId = query.get('instId');
  const list =
    instId === null || instId === ''
      ? [...ctx.instruments.values()]
      : [ctx.instruments.get(instId)].filter((i) => i !== undefined);
  if (instId && list.length === 0) throw unknownInstrument();
  return list.map((i) => {
    const profile = ctx.market.binanceProfile(i.marketSymbol);
    return {
      instType: 'SPOT',
      instId: i.instId,
      baseCcy: i.baseCcy,
      quoteCcy: i.quoteCcy,
      state: i.state,
      tickSz: String(1 / profile.ticksPerUnit),
      lotSz: String(1 / profile.lotsPerUnit),
    };
  });
}

function unknownInstrument(): OkxError {
  // PROTOCOLS.md §6.2: 51001; HTTP 200 is our choice (the venue answers 200 or 4xx).
  return new OkxError(
    OKX_CODE.UNKNOWN_INSTRUMENT,
    "Instrument ID, Instrument ID code or Spread ID doesn't exist.",
  );
}

function integer(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!INTEGER.test(value)) throw new OkxError(OKX_CODE.PARAMETER_ERROR, `Parameter ${name} error`);
  return Number(value);
}

/** The open time `count` bars before the one opening at `openMs` (fixed and week specs). */
function barsBack(s: BarSpec, openMs: number, count: number): number {
  if (s.kind === 'fixed') return openMs - count * s.size;
  if (s.kind === 'week') return openMs - count * 7 * 86_400_000;
  return Number.NEGATIVE_INFINITY; // 1,440 months: every month bar is recent
}

function candles(ctx: OkxRestContext, query: URLSearchParams, history: boolean): unknown[] {
  const instId = query.get('instId') ?? '';
  if (instId === '')
    throw new OkxError(OKX_CODE.EMPTY_PARAMETER, 'Parameter instId can not be empty.');
  const instrument = ctx.instruments.get(instId);
  if (!instrument) throw unknownInstrument();
  const s = barSpec(query.get('bar') ?? '1m');
  if (!s) throw new OkxError(OKX_CODE.PARAMETER_ERROR, 'Parameter bar error');
  const afterMs = integer(query, 'after');
  const beforeMs = integer(query, 'before');
  const asked = integer(query, 'limit') ?? CANDLES_DEFAULT_LIMIT;
  if (asked < 1) throw new OkxError(OKX_CODE.PARAMETER_ERROR, 'Parameter limit error');
  // Our choice: a larger limit is cut to the page size rather than refused.
  const limit = Math.min(asked, history ? HISTORY_MAX_LIMIT : CANDLES_MAX_LIMIT);
  const nowMs = ctx.clock.now();
  const profile = ctx.market.binanceProfile(instrument.marketSymbol);
  const cutoffMs = ctx.market.binanceCutoffMs(nowMs);
  const currentOpenMs = okxBarOpenMs(s, nowMs);
  // PROTOCOLS.md §6.2: `candles` has only the latest 1,440 bars; 1s history only 3 months.
  const floorMs = history
    ? s.name === '1s'
      ? nowMs - ONE_SECOND_HISTORY_MS
      : Number.NEGATIVE_INFINITY
    : barsBack(s, currentOpenMs, CANDLES_RECENT_BARS - 1);
  // `after` = strictly earlier than, `before` = strictly newer than (both exclusive).
  const toMs = Math.min(
    afterMs === undefined ? nowMs : afterMs - 1,
    nowMs,
    (instrument.tradingEndMs ?? Number.POSITIVE_INFINITY) - 1,
  );
  const rows: string[][] = [];
  // Bars inside an outage do not exist; the step bound keeps a long one from spinning.
  for (
    let openMs = okxBarOpenMs(s, toMs), steps = 0;
    rows.length < limit &&
    steps < limit + MAX_MISSING_STEPS &&
    openMs >= floorMs &&
    (beforeMs === undefined || openMs > beforeMs);
    openMs = okxBarOpenMs(s, openMs - 1), steps++
  ) {
    const nextMs = okxNextOpenMs(s, openMs);
    const raw = ctx.market.aggregate(profile, openMs, nextMs, cutoffMs);
    // The forming bar is included, marked "0" (PROTOCOLS.md §3.18).
    if (raw) rows.push(candleRow(profile, raw, nextMs <= nowMs));
  }
  return rows;
}
