// Bybit v5 public spot WebSocket (PROTOCOLS.md §5.3) at `/v5/public/spot`: subscribe in requests
// of at most 10 topics, JSON `op:"ping"` heartbeats, kline pushes with `confirm:true` once per
// closed bar — and sometimes twice (the venue's duplicate-confirm trap).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Interval } from '../../core/types.js';
import { barOpenMs, nextBarOpenMs } from '../calendar.js';
import { binanceListing } from '../catalog.js';
import type { SimClock } from '../clock.js';
import { type Faults, type FaultTarget, malformedFrame } from '../faults.js';
import { rejectUpgrade } from '../http-server.js';
import type { Market } from '../market.js';
import type { Profile } from '../model.js';
import type { Stats } from '../stats.js';
import {
  klinePush,
  MAX_ARGS_PER_SUBSCRIBE,
  TOPIC_PATTERN,
  UPDATE_INTERVAL_MS,
  WIRE_INTERVALS,
  wrongTypesPush,
} from './protocol.js';

/** Our choice: how often the shared tick runs, in real ms. */
const TICK_REAL_MS = 20;
/** Our choice: in-progress pushes per topic at most this often in real ms. */
const UPDATE_FLOOR_REAL_MS = 50;
/** Our choice: every 7th closed bar (by open-time index) gets its `confirm:true` push twice. */
const DUPLICATE_EVERY = 7;
/** Our choice: finals per topic per tick at most (catch-up after a stall). */
const MAX_FINALS_PER_TICK = 5000;

/** What the Bybit WebSocket side needs. */
export interface BybitWsContext {
  clock: SimClock;
  market: Market;
  symbols: ReadonlySet<string>;
  faults: Faults;
  stats: Stats;
}

interface Topic {
  name: string;
  wire: string;
  interval: Interval;
  symbol: string;
  profile: Profile;
  nextFinalOpenMs: number;
  lastUpdateSimMs: number;
  lastUpdateRealMs: number;
}

class Connection implements FaultTarget {
  silent = false;
  malformedLeft = 0;
  malformedSent = 0;
  readonly connId = randomUUID();
  readonly topics = new Map<string, Topic>();
  constructor(readonly ws: WebSocket) {}

  reply(value: unknown): void {
    if (!this.silent) this.ws.send(JSON.stringify(value));
  }

  push(frame: string, topic: string, nowMs: number): void {
    if (this.silent) return;
    if (this.malformedLeft > 0) {
      this.malformedLeft--;
      this.ws.send(malformedFrame(frame, this.malformedSent++, wrongTypesPush(topic, nowMs)));
      return;
    }
    this.ws.send(frame);
  }
}

/** The Bybit WebSocket side: upgrade handler plus close(). */
export interface BybitWs {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  close(): void;
}

/** Starts the Bybit stream server (its tick runs until close()). */
export function startBybitWs(ctx: BybitWsContext): BybitWs {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const connections = new Set<Connection>();
  const timer = setInterval(() => tick(ctx, connections), TICK_REAL_MS);
  return {
    upgrade(req, socket, head, url) {
      if (url.pathname !== '/v5/public/spot') {
        rejectUpgrade(socket, 404, 'Not Found');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new Connection(ws);
        connections.add(conn);
        ctx.faults.register('bybit', conn);
        ctx.stats.connectionOpened('bybit');
        ws.on('error', () => ws.terminate());
        ws.on('close', () => {
          connections.delete(conn);
          ctx.faults.unregister('bybit', conn);
          ctx.stats.connectionClosed('bybit');
        });
        ws.on('message', (data, isBinary) => {
          if (!isBinary) handle(ctx, conn, data.toString());
        });
      });
    },
    close() {
      clearInterval(timer);
      for (const conn of connections) conn.ws.terminate();
      wss.close();
    },
  };
}

function handle(ctx: BybitWsContext, conn: Connection, text: string): void {
  let msg: { req_id?: unknown; op?: unknown; args?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    conn.reply({ success: false, ret_msg: 'Params Error', conn_id: conn.connId });
    return;
  }
  const base = {
    conn_id: conn.connId,
    ...(typeof msg.req_id === 'string' ? { req_id: msg.req_id } : {}),
  };
  if (msg.op === 'ping') {
    conn.reply({ success: true, ret_msg: 'pong', ...base, op: 'ping' });
    return;
  }
  if (msg.op !== 'subscribe' && msg.op !== 'unsubscribe') {
    conn.reply({ success: false, ret_msg: `Invalid op: ${String(msg.op)}`, ...base });
    return;
  }
  const args = msg.args;
  const fail = (retMsg: string): void =>
    conn.reply({ success: false, ret_msg: retMsg, ...base, op: msg.op });
  if (!Array.isArray(args) || args.length === 0 || args.some((a) => typeof a !== 'string')) {
    fail('Params Error');
    return;
  }
  // PROTOCOLS.md §5.3: at most 10 args per request.
  if (args.length > MAX_ARGS_PER_SUBSCRIBE) {
    fail(`args size >${MAX_ARGS_PER_SUBSCRIBE}`);
    return;
  }
  const names = args as string[];
  if (msg.op === 'unsubscribe') {
    for (const name of names) conn.topics.delete(name);
    conn.reply({ success: true, ret_msg: '', ...base, op: msg.op });
    return;
  }
  const nowMs = ctx.clock.now();
  const added: Topic[] = [];
  for (const name of names) {
    const match = TOPIC_PATTERN.exec(name);
    const symbol = match?.[2] ?? '';
    if (!match || !ctx.symbols.has(symbol) || binanceListing(symbol).status !== 'TRADING') {
      fail(`Invalid symbol :[${name}]`);
      return;
    }
    const wire = match[1] as string;
    const interval = WIRE_INTERVALS[wire] as Interval;
    added.push({
      name,
      wire,
      interval,
      symbol,
      profile: ctx.market.binanceProfile(symbol),
      nextFinalOpenMs: barOpenMs(interval, nowMs),
      lastUpdateSimMs: Number.NEGATIVE_INFINITY,
      lastUpdateRealMs: Number.NEGATIVE_INFINITY,
    });
  }
  for (const topic of added) if (!conn.topics.has(topic.name)) conn.topics.set(topic.name, topic);
  conn.reply({ success: true, ret_msg: 'subscribe', ...base, op: 'subscribe' });
}

function tick(ctx: BybitWsContext, connections: Set<Connection>): void {
  const nowMs = ctx.clock.now();
  const realMs = performance.now();
  for (const conn of connections) {
    if (conn.silent) continue;
    for (const topic of conn.topics.values()) publish(ctx, conn, topic, nowMs, realMs);
  }
}

function publish(
  ctx: BybitWsContext,
  conn: Connection,
  topic: Topic,
  nowMs: number,
  realMs: number,
): void {
  const send = (openMs: number, confirm: boolean): void => {
    const raw = ctx.market.binanceRaw(topic.profile, topic.interval, openMs, nowMs);
    if (!raw) return;
    const frame = klinePush(
      topic.profile,
      topic.name,
      topic.wire,
      topic.interval,
      raw,
      confirm,
      nowMs,
    );
    conn.push(frame, topic.name, nowMs);
  };
  for (let sent = 0; sent < MAX_FINALS_PER_TICK; sent++) {
    const nextOpenMs = nextBarOpenMs(topic.interval, topic.nextFinalOpenMs);
    if (nextOpenMs > nowMs) break;
    send(topic.nextFinalOpenMs, true);
    if (Math.floor(topic.nextFinalOpenMs / 60_000) % DUPLICATE_EVERY === 0) {
      send(topic.nextFinalOpenMs, true);
    }
    topic.nextFinalOpenMs = nextOpenMs;
  }
  if (
    nowMs - topic.lastUpdateSimMs >= UPDATE_INTERVAL_MS &&
    realMs - topic.lastUpdateRealMs >= UPDATE_FLOOR_REAL_MS
  ) {
    topic.lastUpdateSimMs = nowMs;
    topic.lastUpdateRealMs = realMs;
    send(topic.nextFinalOpenMs, false);
  }
}
