// Binance WebSocket market streams (PROTOCOLS.md §1.6): raw `/ws/<streams>`, live `/ws`,
// combined `/stream?streams=a/b`. One shared tick drives every connection: finals (`x:true`)
// once per bar as the sim clock passes its close, in-progress updates at the real cadence (with a
// real-time floor so high speeds do not flood), pings, pong deadlines and the lifetime cut.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { barOpenMs, nextBarOpenMs } from '../calendar.js';
import { binanceListing } from '../catalog.js';
import type { SimClock } from '../clock.js';
import type { Faults } from '../faults.js';
import { rejectUpgrade } from '../http-server.js';
import type { Market } from '../market.js';
import type { Stats } from '../stats.js';
import { BinanceConnection, parseStream, type Subscription } from './connection.js';
import { type FloodOptions, startFlood } from './flood.js';
import {
  CONNECTION_LIFETIME_MS,
  combinedFrame,
  klineEvent,
  MAX_STREAMS,
  PING_INTERVAL_MS,
  PONG_DEADLINE_MS,
  UPDATE_INTERVAL_MS,
} from './protocol.js';

/** Our choice: how often the shared tick runs, in real ms. */
const TICK_REAL_MS = 20;
/** Our choice: in-progress updates per stream at most this often in real ms. */
const UPDATE_FLOOR_REAL_MS = 50;
/** Our choice: pings at most once per real second (each pong counts against 5 msg/s). */
const PING_FLOOR_REAL_MS = 1000;
/** Our choice: never cut for a missing pong sooner than this in real ms (slow test machines). */
const PONG_FLOOR_REAL_MS = 3000;
/** Our choice: finals sent per stream per tick at most (catch-up after a stall). */
const MAX_FINALS_PER_TICK = 5000;

/** What the Binance WebSocket side needs. */
export interface BinanceWsContext {
  clock: SimClock;
  market: Market;
  symbols: ReadonlySet<string>;
  faults: Faults;
  stats: Stats;
  flood?: FloodOptions;
  /** New connections allowed per real-time window (all clients count as one IP). */
  connectionLimit: { connections: number; windowMs: number };
  /** Real ms between in-progress updates of one stream at least (default 50). */
  updateFloorRealMs?: number;
}

/** The Binance WebSocket side: upgrade handler plus close(). */
export interface BinanceWs {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  close(): void;
}

/** Starts the Binance stream server (its tick runs until close()). */
export function startBinanceWs(ctx: BinanceWsContext): BinanceWs {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const connections = new Set<BinanceConnection>();
  const hooks = {
    simNow: () => ctx.clock.now(),
    makeSubscription: (name: string): Subscription | undefined => {
      const parsed = parseStream(name);
      if (!parsed) return undefined;
      const nowMs = ctx.clock.now();
      const sub: Subscription = {
        name,
        nextFinalOpenMs: 0,
        lastUpdateSimMs: Number.NEGATIVE_INFINITY,
        lastUpdateRealMs: Number.NEGATIVE_INFINITY,
        floodNextOpenMs: 0,
        floodLeft: 0,
      };
      // Well-formed but unknown symbols are accepted and then silent (PROTOCOLS.md §1.6), and
      // so are pairs listed but not trading (BREAK / HALT, PROTOCOLS.md §1.5).
      if ('silent' in parsed || !ctx.symbols.has(parsed.symbol)) return sub;
      if (binanceListing(parsed.symbol).status !== 'TRADING') return sub;
      sub.symbol = parsed.symbol;
      sub.interval = parsed.interval;
      sub.profile = ctx.market.binanceProfile(parsed.symbol);
      sub.nextFinalOpenMs = barOpenMs(parsed.interval, nowMs);
      if (ctx.flood) {
        const count = ctx.flood.barsPerStream ?? 100_000;
        sub.floodLeft = count;
        sub.floodNextOpenMs = floodStartMs(sub, nowMs, count);
      }
      return sub;
    },
  };

  const timer = setInterval(() => tick(ctx, connections), TICK_REAL_MS);
  /** Real times of recent upgrade attempts, refused ones included. */
  let attempts: number[] = [];

  return {
    upgrade(req, socket, head, url) {
      let names: string[];
      let combined: boolean;
      if (url.pathname === '/ws' || url.pathname === '/ws/') {
        names = [];
        combined = false;
      } else if (url.pathname.startsWith('/ws/')) {
        names = url.pathname.slice(4).split('/').filter(Boolean).map(decodeURIComponent);
        combined = false;
      } else if (url.pathname === '/stream' || url.pathname === '/stream/') {
        names = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
        combined = true;
      } else {
        rejectUpgrade(socket, 404, 'Not Found');
        return;
      }
      const nowMs = performance.now();
      attempts = attempts.filter((t) => t > nowMs - ctx.connectionLimit.windowMs);
      attempts.push(nowMs);
      if (attempts.length > ctx.connectionLimit.connections) {
        // The limit is documented, the refusal is not [unverified]: we answer 429 with a
        // Binance-style body, and a refused attempt still counts.
        ctx.stats.connectionRefused('binance');
        rejectUpgrade(
          socket,
          429,
          'Too Many Requests',
          `{"code":-1003,"msg":"Too many new connections; the limit is ${ctx.connectionLimit.connections} per ${ctx.connectionLimit.windowMs / 1000} s per IP."}`,
        );
        return;
      }
      if (names.length > MAX_STREAMS) {
        rejectUpgrade(socket, 400, 'Bad Request', '{"code":-1,"msg":"Too many streams."}');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new BinanceConnection(ws, combined, hooks);
        connections.add(conn);
        ctx.faults.register('binance', conn);
        ctx.stats.connectionOpened('binance');
        conn.shutdown = () => {
          const event = `{"e":"serverShutdown","E":${ctx.clock.now()}}`;
          conn.reply(conn.combined ? combinedFrame('!serverShutdown', event) : event);
          ws.close(1001, 'Server shutdown');
        };
        ws.on('error', () => ws.terminate());
        ws.on('close', () => {
          connections.delete(conn);
          ctx.faults.unregister('binance', conn);
          ctx.stats.connectionClosed('binance');
        });
        ws.on('message', (data, isBinary) => {
          if (!conn.countIncoming()) return;
          if (isBinary) return;
          conn.handleMessage(data.toString());
          if (ctx.flood) startFlood(ctx, conn, ctx.flood);
        });
        ws.on('ping', () => conn.countIncoming());
        ws.on('pong', (data) => {
          if (!conn.countIncoming()) return;
          // PROTOCOLS.md §1.6: only a pong echoing our ping payload keeps the connection alive.
          if (data.toString() === conn.pingPayload) {
            conn.lastPongSimMs = ctx.clock.now();
            conn.lastPongRealMs = performance.now();
          }
        });
        if (!conn.subscribeAll(names)) {
          conn.reply(
            JSON.stringify({
              error: { code: 2, msg: 'Invalid request: invalid stream' },
              id: null,
            }),
          );
          ws.close(1008, 'Invalid stream');
          return;
        }
        if (ctx.flood) startFlood(ctx, conn, ctx.flood);
      });
    },
    close() {
      clearInterval(timer);
      for (const conn of connections) conn.ws.terminate();
      wss.close();
    },
  };
}

function floodStartMs(sub: Subscription, nowMs: number, count: number): number {
  const interval = sub.interval ?? '1m';
  let openMs = barOpenMs(interval, nowMs);
  if (interval === '1M') {
    for (let i = 0; i < count; i++) openMs = barOpenMs('1M', openMs - 1);
    return openMs;
  }
  const lengthMs = interval === '1s' ? 1000 : nextBarOpenMs(interval, openMs) - openMs;
  return openMs - count * lengthMs;
}

function tick(ctx: BinanceWsContext, connections: Set<BinanceConnection>): void {
  const nowMs = ctx.clock.now();
  const realMs = performance.now();
  // Connections on the same stream share one event text per tick.
  const frames = new Map<string, string>();
  for (const conn of connections) {
    if (nowMs - conn.openedSimMs >= CONNECTION_LIFETIME_MS) {
      conn.ws.close(1000, 'Connection lifetime exceeded');
      continue;
    }
    if (conn.silent) continue;
    if (
      nowMs - conn.lastPongSimMs > PONG_DEADLINE_MS &&
      realMs - conn.lastPongRealMs > PONG_FLOOR_REAL_MS
    ) {
      conn.ws.terminate();
      continue;
    }
    if (
      nowMs - conn.lastPingSimMs >= PING_INTERVAL_MS &&
      realMs - conn.lastPingRealMs >= PING_FLOOR_REAL_MS
    ) {
      conn.pingPayload = String(nowMs);
      conn.lastPingSimMs = nowMs;
      conn.lastPingRealMs = realMs;
      conn.ws.ping(conn.pingPayload);
    }
    if (ctx.flood) continue;
    for (const sub of conn.streams.values()) publish(ctx, conn, sub, nowMs, realMs, frames);
  }
}

function publish(
  ctx: BinanceWsContext,
  conn: BinanceConnection,
  sub: Subscription,
  nowMs: number,
  realMs: number,
  frames: Map<string, string>,
): void {
  const { symbol, interval, profile } = sub;
  if (!symbol || !interval || !profile) return;
  const send = (openMs: number, closed: boolean): void => {
    const key = `${sub.name}|${openMs}|${closed}`;
    let event = frames.get(key);
    if (event === undefined) {
      const raw = ctx.market.binanceRaw(profile, interval, openMs, nowMs);
      if (!raw) return;
      event = klineEvent(profile, symbol, interval, raw, closed, nowMs);
      frames.set(key, event);
    }
    conn.sendData(conn.combined ? combinedFrame(sub.name, event) : event, symbol, nowMs);
  };
  let sent = 0;
  for (;;) {
    const nextOpenMs =
      interval === '1s' ? sub.nextFinalOpenMs + 1000 : nextBarOpenMs(interval, sub.nextFinalOpenMs);
    if (nextOpenMs > nowMs || sent >= MAX_FINALS_PER_TICK) break;
    send(sub.nextFinalOpenMs, true);
    sub.nextFinalOpenMs = nextOpenMs;
    sent++;
  }
  // `1s` bars close every update period, so their only event is the final one.
  if (interval === '1s') return;
  if (
    nowMs - sub.lastUpdateSimMs >= UPDATE_INTERVAL_MS &&
    realMs - sub.lastUpdateRealMs >= (ctx.updateFloorRealMs ?? UPDATE_FLOOR_REAL_MS)
  ) {
    sub.lastUpdateSimMs = nowMs;
    sub.lastUpdateRealMs = realMs;
    send(sub.nextFinalOpenMs, false);
  }
}
