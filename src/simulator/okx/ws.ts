// OKX v5 WebSocket (PROTOCOLS.md §6.3): candle channels on `/ws/v5/business` only (the old
// `/ws/v5/public` answers a candle subscribe with 60018), text `ping`/`pong`, pushes of 9 strings
// with `confirm` "1" once per closed bar, and the 4004 close after 30 s without traffic.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SimClock } from '../clock.js';
import { type Faults, type FaultTarget, malformedFrame } from '../faults.js';
import { rejectUpgrade } from '../http-server.js';
import type { Market } from '../market.js';
import type { Profile } from '../model.js';
import type { Stats } from '../stats.js';
import { PingCounter } from './pings.js';
import {
  type BarSpec,
  barSpec,
  candlePush,
  candleRow,
  IDLE_CLOSE_CODE,
  type OkxInstrument,
  type OkxLimit,
  okxBarOpenMs,
  okxNextOpenMs,
  UPDATE_INTERVAL_MS,
  WS_INVALID_REQUEST,
  WS_NO_SUCH_CHANNEL,
  wrongTypesPush,
} from './protocol.js';

/** Our choice: how often the shared tick runs, in real ms. */
const TICK_REAL_MS = 20;
/** Our choice: in-progress pushes per channel at most this often in real ms. */
const UPDATE_FLOOR_REAL_MS = 50;
/** Our choice: finals per channel per tick at most (catch-up after a stall). */
const MAX_FINALS_PER_TICK = 5000;

/** What the OKX WebSocket side needs. */
export interface OkxWsContext {
  clock: SimClock;
  market: Market;
  instruments: ReadonlyMap<string, OkxInstrument>;
  faults: Faults;
  stats: Stats;
  /** Real ms without traffic either way before the server closes with 4004. */
  idleCloseMs: number;
  /** New connections per window (real time, all clients are one IP); past it HTTP 429. */
  connectionLimit: OkxLimit;
}

interface Channel {
  key: string;
  channel: string;
  spec: BarSpec;
  instrument: OkxInstrument;
  profile: Profile;
  nextFinalOpenMs: number;
  lastUpdateSimMs: number;
  lastUpdateRealMs: number;
}

class Connection implements FaultTarget {
  silent = false;
  malformedLeft = 0;
  malformedSent = 0;
  readonly connId = randomUUID().slice(0, 8);
  readonly channels = new Map<string, Channel>();
  lastTrafficRealMs = performance.now();
  constructor(
    readonly ws: WebSocket,
    readonly business: boolean,
  ) {}

  reply(value: unknown): void {
    this.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  send(text: string): void {
    if (this.silent) return;
    this.lastTrafficRealMs = performance.now();
    this.ws.send(text);
  }

  push(frame: string, channel: Channel): void {
    if (this.silent) return;
    if (this.malformedLeft > 0) {
      this.malformedLeft--;
      const wrong = wrongTypesPush(channel.channel, channel.instrument.instId);
      this.send(malformedFrame(frame, this.malformedSent++, wrong));
      return;
    }
    this.send(frame);
  }
}

/** The OKX WebSocket side: upgrade handler, the client pings seen, close(). */
export interface OkxWs {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  /** Resolves once `count` text pings were received in total; rejects after `timeoutMs`. */
  untilPings(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Starts the OKX socket server (its tick runs until close()). */
export function startOkxWs(ctx: OkxWsContext): OkxWs {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const connections = new Set<Connection>();
  let opened: number[] = [];
  const pings = new PingCounter();
  const timer = setInterval(() => tick(ctx, connections), TICK_REAL_MS);
  return {
    upgrade(req, socket, head, url) {
      const business = url.pathname === '/ws/v5/business';
      if (!business && url.pathname !== '/ws/v5/public') {
        rejectUpgrade(socket, 404, 'Not Found');
        return;
      }
      const realMs = performance.now();
      opened = opened.filter((t) => t > realMs - ctx.connectionLimit.windowMs);
      if (opened.length >= ctx.connectionLimit.requests) {
        // PROTOCOLS.md §6.3: 3 new connections per second per IP.
        ctx.stats.connectionRefused('okx');
        rejectUpgrade(socket, 429, 'Too Many Requests');
        return;
      }
      opened.push(realMs);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new Connection(ws, business);
        connections.add(conn);
        ctx.faults.register('okx', conn);
        ctx.stats.connectionOpened('okx');
        ws.on('error', () => ws.terminate());
        ws.on('close', () => {
          connections.delete(conn);
          ctx.faults.unregister('okx', conn);
          ctx.stats.connectionClosed('okx');
        });
        ws.on('message', (data, isBinary) => {
          conn.lastTrafficRealMs = performance.now();
          if (isBinary) return;
          const text = data.toString();
          if (text === 'ping') pings.add();
          handle(ctx, conn, text);
        });
      });
    },
    untilPings: (count, timeoutMs) => pings.until(count, timeoutMs),
    close() {
      clearInterval(timer);
      for (const conn of connections) conn.ws.terminate();
      wss.close();
    },
  };
}

interface ChannelArg {
  channel: string;
  instId: string;
}

function isChannelArg(value: unknown): value is ChannelArg {
  const arg = value as Partial<ChannelArg> | null;
  return (
    typeof arg === 'object' &&
    arg !== null &&
    typeof arg.channel === 'string' &&
    typeof arg.instId === 'string'
  );
}

function handle(ctx: OkxWsContext, conn: Connection, text: string): void {
  // PROTOCOLS.md §6.3: the heartbeat is the bare text `ping`, answered with `pong`.
  if (text === 'ping') {
    conn.send('pong');
    return;
  }
  let msg: { id?: unknown; op?: unknown; args?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    conn.reply({
      event: 'error',
      code: WS_INVALID_REQUEST,
      msg: `Invalid request: ${text.slice(0, 100)}`,
      connId: conn.connId,
    });
    return;
  }
  const id = typeof msg.id === 'string' ? { id: msg.id } : {};
  const fail = (code: string, message: string): void =>
    conn.reply({ ...id, event: 'error', code, msg: message, connId: conn.connId });
  const args = msg.args;
  if (
    (msg.op !== 'subscribe' && msg.op !== 'unsubscribe') ||
    !Array.isArray(args) ||
    args.length === 0 ||
    !args.every(isChannelArg)
  ) {
    fail(WS_INVALID_REQUEST, `Invalid request: ${text.slice(0, 100)}`);
    return;
  }
  const nowMs = ctx.clock.now();
  const added: Channel[] = [];
  for (const arg of args) {
    const spec = arg.channel.startsWith('candle') ? barSpec(arg.channel.slice(6)) : undefined;
    const instrument = ctx.instruments.get(arg.instId);
    if (!conn.business || !spec || !instrument) {
      // PROTOCOLS.md §6.1: candles left /ws/v5/public; a channel or instrument that does not
      // exist is refused the same way.
      // The business-socket text is the one seen in traffic (burakoner/OKX.Api#34).
      fail(
        WS_NO_SUCH_CHANNEL,
        conn.business
          ? `channel:${arg.channel},instId:${arg.instId} doesn't exist`
          : `Wrong URL or channel:${arg.channel},instId:${arg.instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
      );
      return;
    }
    added.push({
      key: `${arg.channel}|${arg.instId}`,
      channel: arg.channel,
      spec,
      instrument,
      profile: ctx.market.binanceProfile(instrument.marketSymbol),
      nextFinalOpenMs: okxBarOpenMs(spec, nowMs),
      lastUpdateSimMs: Number.NEGATIVE_INFINITY,
      lastUpdateRealMs: Number.NEGATIVE_INFINITY,
    });
  }
  for (const channel of added) {
    if (msg.op === 'unsubscribe') conn.channels.delete(channel.key);
    else if (!conn.channels.has(channel.key)) conn.channels.set(channel.key, channel);
    conn.reply({
      ...id,
      event: msg.op,
      arg: { channel: channel.channel, instId: channel.instrument.instId },
      connId: conn.connId,
    });
  }
}

function tick(ctx: OkxWsContext, connections: Set<Connection>): void {
  const nowMs = ctx.clock.now();
  const realMs = performance.now();
  for (const conn of connections) {
    if (conn.silent) continue;
    for (const channel of conn.channels.values()) publish(ctx, conn, channel, nowMs, realMs);
    // PROTOCOLS.md §6.3: no push and no ping for 30 s, and the server closes with 4004.
    if (realMs - conn.lastTrafficRealMs > ctx.idleCloseMs) {
      conn.silent = true;
      conn.ws.close(IDLE_CLOSE_CODE, 'No data received in 30s.');
    }
  }
}

function publish(
  ctx: OkxWsContext,
  conn: Connection,
  channel: Channel,
  nowMs: number,
  realMs: number,
): void {
  const { instrument, profile, spec } = channel;
  // A suspended instrument's socket stays open but pushes nothing.
  if (instrument.state !== 'live') return;
  const cutoffMs = ctx.market.binanceCutoffMs(nowMs);
  const send = (openMs: number, confirm: boolean): void => {
    const raw = ctx.market.aggregate(profile, openMs, okxNextOpenMs(spec, openMs), cutoffMs);
    if (!raw) return;
    conn.push(
      candlePush(channel.channel, instrument.instId, candleRow(profile, raw, confirm)),
      channel,
    );
  };
  for (let sent = 0; sent < MAX_FINALS_PER_TICK; sent++) {
    const nextOpenMs = okxNextOpenMs(spec, channel.nextFinalOpenMs);
    if (nextOpenMs > nowMs) break;
    // PROTOCOLS.md §6.3: `confirm` "1" marks the closed bar, sent once.
    send(channel.nextFinalOpenMs, true);
    channel.nextFinalOpenMs = nextOpenMs;
  }
  if (
    nowMs - channel.lastUpdateSimMs >= UPDATE_INTERVAL_MS &&
    realMs - channel.lastUpdateRealMs >= UPDATE_FLOOR_REAL_MS
  ) {
    channel.lastUpdateSimMs = nowMs;
    channel.lastUpdateRealMs = realMs;
    send(channel.nextFinalOpenMs, false);
  }
}
