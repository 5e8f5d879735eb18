// Flood mode for benchmarks: every subscribed kline stream gets successive CLOSED bars with
// contiguous open times as fast as the socket drains (or at a fixed rate), `E` = real send time.

import { nextBarOpenMs } from '../calendar.js';
import type { SimClock } from '../clock.js';
import type { Market } from '../market.js';
import type { BinanceConnection, Subscription } from './connection.js';
import { combinedFrame, klineEvent } from './protocol.js';

/**
 * Binance flood mode (benchmarks). When set, live kline streams are replaced: each subscribed
 * kline stream of a known symbol receives `barsPerStream` successive CLOSED (`x:true`) events
 * with contiguous, strictly increasing open times, ending with the last bar closed at subscribe
 * time (so REST serves the same bars). `E` is the real wall-clock send time (`Date.now()`), so a
 * client can measure latency as `Date.now() - E`. Without `ratePerSec` frames are sent as fast as
 * the socket drains (batches wait for the previous batch to be written); with it, each connection
 * sends about `ratePerSec` frames per second in total, round-robin over its streams.
 */
export interface FloodOptions {
  /** Closed bars per stream (default 100 000). */
  barsPerStream?: number;
  /** Frames per second per connection; omitted = as fast as the socket drains. */
  ratePerSec?: number;
}

/** Frames per write batch; the last frame's write callback gates the next batch. */
const BATCH = 256;
/** Our choice: pacing tick for `ratePerSec`. */
const RATE_TICK_MS = 10;

interface FloodContext {
  clock: SimClock;
  market: Market;
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
  let startedMs = performance.now();
  let sentTotal = 0;
  while (ws.readyState === ws.OPEN) {
    let batch = BATCH;
    if (options.ratePerSec !== undefined) {
      const allowed = Math.floor(((performance.now() - startedMs) / 1000) * options.ratePerSec);
      batch = Math.min(BATCH, allowed - sentTotal);
      if (batch <= 0) {
        await new Promise<void>((resolve) => setTimeout(resolve, RATE_TICK_MS));
        continue;
      }
    }
    const streams = [...conn.streams.values()].filter((s) => s.floodLeft > 0 && s.profile);
    if (streams.length === 0) return;
    let written: Promise<void> | undefined;
    for (let i = 0; i < batch; i++) {
      const sub = streams[i % streams.length] as Subscription;
      if (sub.floodLeft <= 0) continue;
      const frame = floodFrame(ctx, conn, sub);
      const last = i === batch - 1;
      if (last) {
        written = new Promise<void>((resolve) =>
          conn.sendData(frame, sub.symbol ?? '', Date.now(), () => resolve()),
        );
      } else {
        conn.sendData(frame, sub.symbol ?? '', Date.now());
      }
    }
    sentTotal += batch;
    if (written) await written;
    if (conn.silent) return;
    if (options.ratePerSec === undefined) startedMs = performance.now();
  }
}

function floodFrame(ctx: FloodContext, conn: BinanceConnection, sub: Subscription): string {
  const { profile, interval, symbol } = sub as Required<Subscription>;
  const openMs = sub.floodNextOpenMs;
  sub.floodNextOpenMs = interval === '1s' ? openMs + 1000 : nextBarOpenMs(interval, openMs);
  sub.floodLeft--;
  const nowMs = ctx.clock.now();
  const raw = ctx.market.binanceRaw(
    profile,
    interval,
    openMs,
    Math.max(nowMs, sub.floodNextOpenMs),
  );
  const event = raw
    ? klineEvent(profile, symbol, interval, raw, true, Date.now())
    : `{"e":"kline","E":${Date.now()}}`;
  return conn.combined ? combinedFrame(sub.name, event) : event;
}
