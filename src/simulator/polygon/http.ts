// Polygon REST aggregates (PROTOCOLS.md §2.2):
// GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimClock } from '../clock.js';
import type { FailStatus } from '../faults.js';
import { sendJson, type VenueHandlers } from '../http-server.js';
import {
  type Market,
  type PolygonTimespan,
  polygonBucketStartMs,
  polygonNextBucketMs,
} from '../market.js';
import type { Profile, RawBar } from '../model.js';
import { nyMidnightMs } from '../ny-time.js';
import {
  AGGS_DEFAULT_LIMIT,
  AGGS_MAX_LIMIT,
  errors,
  requestId,
  restResult,
  TIMESPANS,
  tickerDetails,
} from './protocol.js';

/** What the Polygon REST side needs. */
export interface PolygonRestContext {
  clock: SimClock;
  market: Market;
  tickers: ReadonlySet<string>;
  apiKey: string;
  /** `http://host:port`, for `next_url`. */
  baseUrl: () => string;
}

const REFERENCE_TICKER_PATH = /^\/v3\/reference\/tickers\/([^/]+)$/;
const AGGS_PATH = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INTEGER = /^\d{1,15}$/;

interface Query {
  ticker: string;
  multiplier: number;
  timespan: PolygonTimespan;
  fromMs: number;
  toMs: number;
  adjusted: boolean;
  sort: 'asc' | 'desc';
  limit: number;
}

class BadParam {
  constructor(readonly detail: string) {}
}

/** The request and failure handlers of the Polygon REST server. */
export function polygonRest(ctx: PolygonRestContext): Pick<VenueHandlers, 'request' | 'failure'> {
  return {
    request(req: IncomingMessage, res: ServerResponse, url: URL) {
      setVenueDate(res, ctx.clock);
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      const key = url.searchParams.get('apiKey') ?? bearer;
      if (!key) {
        sendJson(res, 401, errors.noKey());
        return;
      }
      if (key !== ctx.apiKey) {
        sendJson(res, 401, errors.badKey());
        return;
      }
      const reference = REFERENCE_TICKER_PATH.exec(url.pathname);
      if (reference) {
        const ticker = safeDecode(reference[1] as string);
        if (ticker !== undefined && ctx.tickers.has(ticker))
          sendJson(res, 200, tickerDetails(ticker));
        else sendJson(res, 404, errors.tickerNotFound());
        return;
      }
      const match = AGGS_PATH.exec(url.pathname);
      if (!match) {
        sendJson(res, 404, { status: 'NOT_FOUND', request_id: '', message: 'Not found' });
        return;
      }
      try {
        const query = parseQuery(match.slice(1).map(decodeURIComponent), url.searchParams);
        sendJson(res, 200, aggregates(ctx, query));
      } catch (err) {
        if (!(err instanceof BadParam)) throw err;
        sendJson(res, 400, errors.badParam(err.detail));
      }
    },
    failure(res: ServerResponse, status: FailStatus, retryAfterSec: number | undefined) {
      setVenueDate(res, ctx.clock);
      if (status === 429 || status === 418) {
        // PROTOCOLS.md §2.2: Retry-After on a Polygon 429 is undocumented; sent only when asked.
        const headers: Record<string, string> =
          retryAfterSec === undefined ? {} : { 'Retry-After': String(retryAfterSec) };
        sendJson(res, status, errors.rateLimited(), headers);
      } else {
        sendJson(res, status, errors.server(status));
      }
    },
  };
}

/**
 * The `Date` header by the venue's clock (HTTP date, whole seconds), so a client can tell which
 * bars are closed; Node's own would carry the local clock, wrong whenever the simulator's runs
 * faster.
 */
function setVenueDate(res: ServerResponse, clock: SimClock): void {
  res.setHeader('Date', new Date(clock.now()).toUTCString());
}

function parseTime(value: string, name: string, end: boolean): number {
  const date = DATE.exec(value);
  if (date) {
    // A date means that New York calendar day: from its midnight, to the next one (exclusive).
    const [year, month, day] = [Number(date[1]), Number(date[2]) - 1, Number(date[3])];
    return end ? nyMidnightMs(year, month, day + 1) - 1 : nyMidnightMs(year, month, day);
  }
  if (INTEGER.test(value)) return Number(value);
  throw new BadParam(`${name}: expected YYYY-MM-DD or a millisecond timestamp, got '${value}'`);
}

function parseQuery(path: string[], search: URLSearchParams): Query {
  const [ticker, multiplierText, timespan, fromText, toText] = path as [
    string,
    string,
    string,
    string,
    string,
  ];
  const cursor = search.get('cursor');
  if (cursor) {
    try {
      return JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Query;
    } catch {
      throw new BadParam('cursor: malformed');
    }
  }
  if (!INTEGER.test(multiplierText) || Number(multiplierText) < 1) {
    throw new BadParam(`multiplier: expected a positive integer, got '${multiplierText}'`);
  }
  if (!TIMESPANS.includes(timespan)) throw new BadParam(`timespan: unknown '${timespan}'`);
  const adjustedText = search.get('adjusted') ?? 'true';
  if (adjustedText !== 'true' && adjustedText !== 'false') {
    throw new BadParam(`adjusted: expected true or false, got '${adjustedText}'`);
  }
  const sort = search.get('sort') ?? 'asc';
  if (sort !== 'asc' && sort !== 'desc') throw new BadParam(`sort: expected asc or desc`);
  const limitText = search.get('limit');
  if (limitText !== null && (!INTEGER.test(limitText) || Number(limitText) < 1)) {
    throw new BadParam(`limit: expected a positive integer, got '${limitText}'`);
  }
  const multiplier = Number(multiplierText);
  const span = timespan as PolygonTimespan;
  // PROTOCOLS.md §2.2: `from` snaps back to its bar's start, `to` forward to its bar's end.
  const fromMs = polygonBucketStartMs(multiplier, span, parseTime(fromText, 'from', false));
  const toStartMs = polygonBucketStartMs(multiplier, span, parseTime(toText, 'to', true));
  return {
    ticker,
    multiplier,
    timespan: span,
    fromMs,
    toMs: polygonNextBucketMs(multiplier, span, toStartMs) - 1,
    adjusted: adjustedText === 'true',
    sort,
    limit: Math.min(AGGS_MAX_LIMIT, limitText === null ? AGGS_DEFAULT_LIMIT : Number(limitText)),
  };
}

/** Base aggregates inside a bar: seconds for `second`, minutes up to `hour`, else days. */
function baseCount(ctx: PolygonRestContext, p: Profile, q: Query, startMs: number, endMs: number) {
  if (q.timespan === 'second') return (endMs - startMs) / 1000;
  if (q.timespan === 'minute' || q.timespan === 'hour') {
    return ctx.market.polygonMinuteCount(p, startMs, endMs);
  }
  return ctx.market.polygonRawRange(p, 1, 'day', startMs, endMs - 1).length;
}

function* bucketStarts(q: Query, lastMs: number): Generator<number> {
  if (q.sort === 'asc') {
    for (let t = q.fromMs; t <= lastMs; t = polygonNextBucketMs(q.multiplier, q.timespan, t)) {
      yield t;
    }
    return;
  }
  const starts: number[] = [];
  for (let t = q.fromMs; t <= lastMs; t = polygonNextBucketMs(q.multiplier, q.timespan, t)) {
    starts.push(t);
  }
  for (let i = starts.length - 1; i >= 0; i--) yield starts[i] as number;
}

function aggregates(ctx: PolygonRestContext, q: Query): unknown {
  const cutoffMs = ctx.market.polygonCutoffMs(q.timespan);
  const lastMs = Math.min(q.toMs, cutoffMs - 1);
  const p = ctx.market.polygonProfile(q.ticker);
  const results: RawBar[] = [];
  let used = 0;
  let nextStartMs: number | undefined;
  // Unknown tickers are not an error: 200 with no results.
  const starts = ctx.tickers.has(q.ticker) ? bucketStarts(q, lastMs) : [];
  for (const startMs of starts) {
    const endMs = polygonNextBucketMs(q.multiplier, q.timespan, startMs);
    const bar = ctx.market.aggregate(p, startMs, endMs, cutoffMs);
    if (!bar) continue;
    const base = baseCount(ctx, p, q, startMs, Math.min(endMs, cutoffMs));
    if (results.length > 0 && used + base > q.limit) {
      nextStartMs = startMs;
      break;
    }
    used += base;
    results.push(bar);
  }
  const body: Record<string, unknown> = {
    ticker: q.ticker,
    queryCount: used,
    resultsCount: results.length,
    adjusted: q.adjusted,
  };
  // PROTOCOLS.md §2.2: `results` is omitted when empty.
  if (results.length > 0) body.results = results.map((raw) => restResult(p, raw));
  body.status = 'OK';
  body.request_id = requestId();
  body.count = results.length;
  if (nextStartMs !== undefined) {
    const next: Query =
      q.sort === 'asc'
        ? { ...q, fromMs: nextStartMs }
        : { ...q, toMs: polygonNextBucketMs(q.multiplier, q.timespan, nextStartMs) - 1 };
    const cursor = Buffer.from(JSON.stringify(next)).toString('base64url');
    // PROTOCOLS.md §2.2: next_url carries no API key.
    body.next_url = `${ctx.baseUrl()}/v2/aggs/ticker/${encodeURIComponent(q.ticker)}/range/${q.multiplier}/${q.timespan}/${next.fromMs}/${next.toMs}?cursor=${cursor}`;
  }
  return body;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
