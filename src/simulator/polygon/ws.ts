// Polygon stocks WebSocket (PROTOCOLS.md §2.3): `connected` → auth → subscribe acks, then `AM`
// after each minute closes and `A` about 2 s after each second, batched in JSON arrays; only
// windows with trades produce events. One connection per key: a newer one evicts the older.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SimClock } from '../clock.js';
import { type Faults, type FaultTarget, malformedFrame } from '../faults.js';
import { rejectUpgrade } from '../http-server.js';
import type { Market } from '../market.js';
import { mergeInto, minuteBar, type RawBar } from '../model.js';
import { nyDayStartMs } from '../ny-time.js';
import type { Stats } from '../stats.js';
import { aggregateEvent, SECOND_AGG_DELAY_MS, statusFrame, WRONG_TYPES_FRAME } from './protocol.js';

/** Our choice: the emission tick, real ms. */
const TICK_REAL_MS = 50;
/** Our choice: windows processed per tick at most; beyond that the feed skips ahead. */
const MAX_WINDOWS_PER_TICK = 3600;

/** What the Polygon WebSocket side needs. */
export interface PolygonWsContext {
  clock: SimClock;
  market: Market;
  tickers: ReadonlySet<string>;
  faults: Faults;
  stats: Stats;
  apiKey: string;
  /** Real ms a new connection may take to authenticate before `auth_timeout` (PROTOCOLS.md §2.3). */
  authTimeoutMs: number;
}

class PolygonConnection implements FaultTarget {
  silent = false;
  malformedLeft = 0;
  authenticated = false;
  /** Set while the connection has not authenticated yet: sends `auth_timeout` when it fires. */
  authTimer: NodeJS.Timeout | undefined;
  readonly subs = new Set<string>();
  #malformedSent = 0;
  constructor(readonly ws: WebSocket) {}

  send(frame: string): void {
    if (!this.silent) this.ws.send(frame);
  }

  sendData(frame: string): void {
    if (this.silent) return;
    if (this.malformedLeft > 0) {
      this.malformedLeft--;
      this.ws.send(malformedFrame(frame, this.#malformedSent++, WRONG_TYPES_FRAME));
      return;
    }
    this.ws.send(frame);
  }

  wants(ev: 'AM' | 'A', ticker: string): boolean {
    return this.subs.has(`${ev}.${ticker}`) || this.subs.has(`${ev}.*`);
  }
}

/** The Polygon WebSocket side: upgrade handler plus close(). */
export interface PolygonWs {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  close(): void;
}

/** Starts the Polygon stocks socket server (its tick runs until close()). */
export function startPolygonWs(ctx: PolygonWsContext): PolygonWs {
  // Pongs are ours to send: a connection told to go silent must stop answering pings too, as a
  // hung server or a dead path does (PROTOCOLS.md §2.3: the server answers pings).
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false });
  const connections = new Set<PolygonConnection>();
  const startMs = ctx.clock.now();
  let nextMinuteMs = Math.floor(startMs / 60_000) * 60_000 + 60_000;
  let nextSecondMs = Math.floor(startMs / 1000) * 1000 + 1000;
  const dayTotals = new Map<string, { dayStartMs: number; throughMs: number; acc?: RawBar }>();

  // Running totals of the New York day before `minuteMs` (for `av`, `op`, `a`).
  const dayBefore = (ticker: string, minuteMs: number): RawBar | undefined => {
    const p = ctx.market.polygonProfile(ticker);
    const dayStartMs = nyDayStartMs(minuteMs);
    let state = dayTotals.get(ticker);
    if (!state || state.dayStartMs !== dayStartMs || state.throughMs > minuteMs) {
      state = { dayStartMs, throughMs: dayStartMs };
      dayTotals.set(ticker, state);
    }
    for (; state.throughMs < minuteMs; state.throughMs += 60_000) {
      const bar = minuteBar(p, state.throughMs);
      if (bar) state.acc = mergeInto(state.acc, bar);
    }
    return state.acc ? { ...state.acc } : undefined;
  };

  const broadcast = (
    ev: 'AM' | 'A',
    windowMs: number,
    frames: Map<PolygonConnection, string[]>,
    targets: Iterable<PolygonConnection> = connections,
  ) => {
    const minuteMs = Math.floor(windowMs / 60_000) * 60_000;
    const wanted = new Set<string>();
    for (const conn of targets) {
      if (!conn.authenticated || conn.silent) continue;
      for (const ticker of ctx.tickers) if (conn.wants(ev, ticker)) wanted.add(ticker);
    }
    for (const ticker of wanted) {
      const p = ctx.market.polygonProfile(ticker);
      const minute = minuteBar(p, minuteMs);
      if (!minute) continue;
      let bar: RawBar | undefined = minute;
      let day = mergeInto(dayBefore(ticker, minuteMs), minute);
      if (ev === 'A') {
        const seconds = ctx.market.secondsOf(p, minute);
        bar = seconds.find((s) => s.openMs === windowMs);
        if (!bar) continue;
        let secondDay = dayBefore(ticker, minuteMs);
        for (const s of seconds) if (s.openMs <= windowMs) secondDay = mergeInto(secondDay, s);
        day = secondDay ?? bar;
      }
      const event = aggregateEvent(ev, ticker, p, bar, day);
      for (const conn of targets) {
        if (!conn.authenticated || !conn.wants(ev, ticker)) continue;
        let list = frames.get(conn);
        if (!list) {
          list = [];
          frames.set(conn, list);
        }
        list.push(event);
      }
    }
  };

  // A corrected re-send (faults.resendLate): the REST values of an older minute, in a frame of
  // its own, to every subscribed connection.
  const resendTo = (targets: Iterable<PolygonConnection>, minutesLate: number): void => {
    const minuteMs = nextMinuteMs - 60_000 - minutesLate * 60_000;
    const frames = new Map<PolygonConnection, string[]>();
    broadcast('AM', minuteMs, frames, targets);
    for (const [conn, events] of frames) conn.sendData(`[${events.join(',')}]`);
  };

  const tick = (): void => {
    const nowMs = ctx.clock.now();
    const pendingResend = ctx.faults.polygonResends.shift();
    if (pendingResend !== undefined) {
      const subscribed = [...connections].filter(
        (c) => c.authenticated && c.subs.size > 0 && c.ws.readyState === c.ws.OPEN,
      );
      if (subscribed.length > 0) {
        resendTo(subscribed, pendingResend);
        return; // newer AM frames wait for the next tick, so the re-send arrives first
      }
      ctx.faults.polygonResends.unshift(pendingResend);
    }
    const frames = new Map<PolygonConnection, string[]>();
    let windows = 0;
    for (; nextSecondMs + 1000 + SECOND_AGG_DELAY_MS <= nowMs; nextSecondMs += 1000) {
      if (windows++ < MAX_WINDOWS_PER_TICK) broadcast('A', nextSecondMs, frames);
    }
    for (; nextMinuteMs + 60_000 <= nowMs; nextMinuteMs += 60_000) {
      if (windows++ < MAX_WINDOWS_PER_TICK) broadcast('AM', nextMinuteMs, frames);
    }
    for (const [conn, events] of frames) conn.sendData(`[${events.join(',')}]`);
  };
  const timer = setInterval(tick, TICK_REAL_MS);

  const onMessage = (conn: PolygonConnection, text: string): void => {
    let message: { action?: unknown; params?: unknown };
    try {
      message = JSON.parse(text) as { action?: unknown; params?: unknown };
    } catch {
      conn.send(statusFrame('error', 'invalid message'));
      return;
    }
    const params = typeof message.params === 'string' ? message.params : '';
    if (message.action === 'auth') {
      clearTimeout(conn.authTimer);
      conn.authTimer = undefined;
      if (params !== ctx.apiKey) {
        // PROTOCOLS.md §2.3: auth_failed, then an abrupt close (no close frame).
        conn.ws.send(statusFrame('auth_failed', 'authentication failed'), () =>
          conn.ws.terminate(),
        );
        return;
      }
      for (const other of connections) {
        if (other !== conn && other.authenticated) {
          other.ws.send(
            statusFrame('max_connections', 'Maximum number of websocket connections exceeded.'),
          );
          other.ws.close(1008, 'max_connections');
          other.authenticated = false;
        }
      }
      conn.authenticated = true;
      conn.send(statusFrame('auth_success', 'authenticated'));
      return;
    }
    if (message.action === 'subscribe' || message.action === 'unsubscribe') {
      if (!conn.authenticated) {
        conn.send(statusFrame('auth_required', 'authentication required'));
        return;
      }
      const acks: string[] = [];
      for (const item of params.split(',').map((s) => s.trim())) {
        // Unknown event prefixes are ignored without an ack (PROTOCOLS.md §2.3).
        if (!/^(AM|A)\.[A-Za-z0-9.*-]+$/.test(item)) continue;
        if (message.action === 'subscribe') conn.subs.add(item);
        else conn.subs.delete(item);
        const verb = message.action === 'subscribe' ? 'subscribed' : 'unsubscribed';
        acks.push(
          JSON.stringify({ ev: 'status', status: 'success', message: `${verb} to: ${item}` }),
        );
      }
      if (acks.length > 0) conn.send(`[${acks.join(',')}]`);
    }
  };

  return {
    upgrade(req, socket, head, url) {
      if (url.pathname !== '/stocks') {
        rejectUpgrade(socket, 404, 'Not Found');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new PolygonConnection(ws);
        connections.add(conn);
        ctx.faults.register('polygon', conn);
        ctx.stats.connectionOpened('polygon');
        ws.on('error', () => ws.terminate());
        ws.on('ping', (data) => {
          if (!conn.silent) ws.pong(data);
        });
        // PROTOCOLS.md §2.3 `auth_timeout`: a socket that does not authenticate in time is closed.
        conn.authTimer = setTimeout(() => {
          conn.authTimer = undefined;
          if (conn.authenticated) return;
          conn.send(statusFrame('auth_timeout', 'No authentication request received.'));
          conn.ws.close(1008, 'auth_timeout');
        }, ctx.authTimeoutMs);
        ws.on('close', () => {
          clearTimeout(conn.authTimer);
          connections.delete(conn);
          ctx.faults.unregister('polygon', conn);
          ctx.stats.connectionClosed('polygon');
        });
        ws.on('message', (data, isBinary) => {
          if (!isBinary) onMessage(conn, data.toString());
        });
        conn.send(statusFrame('connected', 'Connected Successfully'));
      });
    },
    close() {
      clearInterval(timer);
      for (const conn of connections) {
        clearTimeout(conn.authTimer);
        conn.ws.terminate();
      }
      wss.close();
    },
  };
}
