// Flood mode for benchmarks: every subscribed kline stream gets successive CLOSED bars with
// contiguous open times, from frames PRECOMPUTED before the first send, as fast as the socket
// drains (or at a fixed rate). Only two fixed-width numbers are patched in at send time.

import type { Socket } from 'node:net';
import { nextBarOpenMs } from '../calendar.js';
import type { SimClock } from '../clock.js';
import type { Market } from '../market.js';
import type { BinanceConnection, Subscription } from './connection.js';
import { combinedFrame, klineEvent } from './protocol.js';

/**
 * Binance flood mode (benchmarks). When set, live kline streams are replaced: each subscribed
 * kline stream of a known symbol receives `barsPerStream` successive CLOSED (`x:true`) events
 * with contiguous, strictly increasing open times, ending with the last bar closed at subscribe
 * time (so REST serves the same bars). All frames of a connection are built (WebSocket framing
 * included, ≈ 420 bytes each) before the first one is sent, so the server's send rate is not
 * bounded by building them. Two numbers are written into each frame as it is sent: `E` (wall
 * clock ms, integer, as Binance) and a last field `"ts"`: the send time as
 * `performance.timeOrigin + performance.now()` with three decimals (sub-ms; the frame's last 17
 * characters before its closing `}`), for latency measured in another process. Without
 * `ratePerSec` frames go as fast as the socket drains; with it, each connection sends about
 * `ratePerSec` frames per second in total, round-robin over its streams.
 */
export interface FloodOptions {
  /** Closed bars per stream (default 100 000). */
  barsPerStream?: number;
  /** Frames per second per connection; omitted = as fast as the socket drains. */
  ratePerSec?: number;
}

/** What this process's flood has sent so far (every connection), for a bench's send rate. */
export interface FloodSendStats {
  frames: number;
  bytes: number;
  /** `performance.now()` of the first write and of the last write's completion. */
  firstSendMs: number;
  lastDoneMs: number;
}

const stats: FloodSendStats = { frames: 0, bytes: 0, firstSendMs: 0, lastDoneMs: 0 };

/** Frames sent by this process's flood so far (a copy). */
export function floodSendStats(): FloodSendStats {
  return { ...stats };
}

/** Frames per socket write. */
const BATCH = 256;
/** Our choice: pacing tick for `ratePerSec` (small, so a paced frame waits little). */
const RATE_TICK_MS = 1;
/** Width of the `ts` stamp: 13 integer digits, '.', 3 decimals (good until the year 2286). */
const STAMP_WIDTH = 17;
const E_WIDTH = 13;
const E_PLACEHOLDER = '9'.repeat(E_WIDTH);
const STAMP_PLACEHOLDER = `${'9'.repeat(E_WIDTH)}.999`;

interface FloodContext {
  clock: SimClock;
  market: Market;
}

/** A connection's whole flood: WebSocket frames back to back, and where each one's numbers are. */
interface Frames {
  bytes: Buffer;
  /** Frame i spans [start[i], start[i + 1]). */
  start: Int32Array;
  /** Offset of frame i's `E` digits and its `ts` digits. */
  eAt: Int32Array;
  tsAt: Int32Array;
  count: number;
}

/** Starts (or keeps) pumping flood frames on `conn`; returns at once. */
export function startFlood(
  ctx: FloodContext,
  conn: BinanceConnection,
  options: FloodOptions,
): void {
  if (conn.flooding) return;
  conn.flooding = true;
  pump(ctx, conn, options).then(
    () => {
      conn.flooding = false;
    },
    () => {
      conn.flooding = false;
    },
  );
}

async function pump(
  ctx: FloodContext,
  conn: BinanceConnection,
  options: FloodOptions,
): Promise<void> {
  const ws = conn.ws;
  // `ws` exposes no raw write; the flood writes whole prebuilt frames to its socket between
  // `ws`'s own (synchronous) frame writes, which keeps both intact.
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  while (ws.readyState === ws.OPEN) {
    const streams = [...conn.streams.values()].filter((s) => s.floodLeft > 0 && s.profile);
    if (streams.length === 0 || !socket) return;
    const frames = buildFrames(ctx, conn, streams);
    const startedMs = performance.now();
    let sent = 0;
    while (sent < frames.count && ws.readyState === ws.OPEN) {
      let batch = Math.min(BATCH, frames.count - sent);
      if (options.ratePerSec !== undefined) {
        const allowed = Math.floor(((performance.now() - startedMs) / 1000) * options.ratePerSec);
        batch = Math.min(batch, allowed - sent);
        if (batch <= 0) {
          await new Promise<void>((resolve) => setTimeout(resolve, RATE_TICK_MS));
          continue;
        }
      }
      if (conn.silent) return;
      if (conn.malformedLeft > 0) {
        sendViaWs(conn, frames, sent, batch);
      } else if (!(await writeBatch(socket, frames, sent, batch))) {
        return;
      }
      sent += batch;
    }
  }
}

/** Builds every frame of `streams` (round-robin), marking them all as queued. */
function buildFrames(ctx: FloodContext, conn: BinanceConnection, streams: Subscription[]): Frames {
  const texts: string[] = [];
  const eAtText: number[] = [];
  for (let more = true; more; ) {
    more = false;
    for (const sub of streams) {
      if (sub.floodLeft <= 0) continue;
      const event = floodEvent(ctx, sub);
      const text = conn.combined ? combinedFrame(sub.name, event) : event;
      texts.push(`${text.slice(0, -1)},"ts":${STAMP_PLACEHOLDER}}`);
      eAtText.push(text.indexOf(`"E":${E_PLACEHOLDER}`) + 4);
      more ||= sub.floodLeft > 0;
    }
  }
  const count = texts.length;
  const start = new Int32Array(count + 1);
  const eAt = new Int32Array(count);
  const tsAt = new Int32Array(count);
  let size = 0;
  for (const text of texts) size += headerLength(text.length) + text.length;
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const text = texts[i] as string;
    start[i] = at;
    at = writeHeader(bytes, at, text.length);
    bytes.write(text, at, 'latin1');
    eAt[i] = at + (eAtText[i] as number);
    tsAt[i] = at + text.length - 1 - STAMP_WIDTH;
    at += text.length;
  }
  start[count] = at;
  return { bytes, start, eAt, tsAt, count };
}

function floodEvent(ctx: FloodContext, sub: Subscription): string {
  const { profile, interval, symbol } = sub as Required<Subscription>;
  const openMs = sub.floodNextOpenMs;
  sub.floodNextOpenMs = interval === '1s' ? openMs + 1000 : nextBarOpenMs(interval, openMs);
  sub.floodLeft--;
  const raw = ctx.market.binanceRaw(
    profile,
    interval,
    openMs,
    Math.max(ctx.clock.now(), sub.floodNextOpenMs),
  );
  return raw
    ? klineEvent(profile, symbol, interval, raw, true, Number(E_PLACEHOLDER))
    : `{"e":"kline","E":${E_PLACEHOLDER}}`;
}

/** Stamps frames [from, from + n) and writes them in one socket write; false if it failed. */
async function writeBatch(socket: Socket, f: Frames, from: number, n: number): Promise<boolean> {
  stamp(f, from, n);
  const chunk = f.bytes.subarray(f.start[from], f.start[from + n]);
  if (stats.frames === 0) stats.firstSendMs = performance.now();
  // One batch in flight: its callback means the kernel has it (Node emits 'drain' before it).
  const done = new Promise<boolean>((resolve) => {
    socket.write(chunk, (err) => {
      stats.lastDoneMs = performance.now();
      resolve(!err);
    });
  });
  stats.frames += n;
  stats.bytes += chunk.length;
  return done;
}

/** Sends frames one by one through the connection (its malformed-frame fault applies). */
function sendViaWs(conn: BinanceConnection, f: Frames, from: number, n: number): void {
  stamp(f, from, n);
  for (let i = from; i < from + n; i++) {
    const at = f.start[i] as number;
    const length7 = (f.bytes[at + 1] as number) & 0x7f;
    const payloadAt = at + (length7 < 126 ? 2 : length7 === 126 ? 4 : 10);
    conn.sendData(f.bytes.toString('latin1', payloadAt, f.start[i + 1]), '', Date.now());
  }
}

function stamp(f: Frames, from: number, n: number): void {
  // Both are exactly their width from 2001 to 2286 (no padding: a leading 0 is not JSON).
  const eText = String(Date.now());
  const tsText = (performance.timeOrigin + performance.now()).toFixed(3);
  for (let i = from; i < from + n; i++) {
    f.bytes.write(eText, f.eAt[i] as number, 'latin1');
    f.bytes.write(tsText, f.tsAt[i] as number, 'latin1');
  }
}

/** RFC 6455 header length of an unmasked text frame with `length` payload bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(bytes: Buffer, at: number, length: number): number {
  bytes[at] = 0x81; // FIN + text
  if (length < 126) {
    bytes[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    bytes[at + 1] = 126;
    bytes.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  bytes[at + 1] = 127;
  bytes.writeBigUInt64BE(BigInt(length), at + 2);
  return at + 10;
}
