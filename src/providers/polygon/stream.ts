// The Polygon side of the shared stream engine (PROTOCOLS.md §2.3): one socket, the handshake on
// every (re)connect, frames -> bars, and REST backfill.

import type { MarketData } from '../../core/types.js';
import type {
  BackfillPhase,
  ConnectionPlan,
  HandshakeContext as EngineHandshake,
  FrameSink,
  StreamAdapter,
} from '../../stream/adapter.js';
import { parseFrame } from './frames.js';
import { liveStatus, PolygonHandshake } from './handshake.js';
import { MINUTE_MS, SECOND_MS } from './protocol.js';
import type { PolygonRest } from './rest.js';

/** What {@link createPolygonAdapter} needs. */
export interface PolygonAdapterOptions {
  apiKey: string;
  feed: 'realtime' | 'delayed';
  /** Full WebSocket URL, cluster path included (`wss://socket.polygon.io/stocks`). */
  wsUrl: string;
  tickers: readonly string[];
  /** `A` for 1s bars, `AM` for everything else (minutes, aggregated later if need be). */
  ev: 'AM' | 'A';
  rest: PolygonRest;
  /** Deadline for each handshake reply. */
  handshakeTimeoutMs: number;
  /** Cap on the cool-down after `max_connections` (the engine's reconnect delay cap). */
  maxCoolDownMs: number;
  /**
   * Told where each symbol's REST backfill starts and ends in the consumer's order (the engine's
   * {@link StreamAdapter.onBackfill}); local aggregation uses it to hold cross-symbol closes.
   */
  onBackfill?: (symbol: string, phase: BackfillPhase) => void;
}

/**
 * The Polygon side of the shared resilient engine: one socket for every ticker (a plan allows one
 * connection per cluster, PROTOCOLS.md §2.3), the auth/subscribe handshake on every (re)connect,
 * frame parsing, and REST backfill of the bars missed while disconnected.
 */
export function createPolygonAdapter(options: PolygonAdapterOptions): StreamAdapter {
  return new PolygonAdapter(options);
}

class PolygonAdapter implements StreamAdapter {
  readonly venue = 'polygon';
  // Quiet tickers send nothing for minutes (pre-market, halts); pings and pongs prove the socket.
  readonly livenessFromData = false;
  readonly onBackfill?: (symbol: string, phase: BackfillPhase) => void;
  readonly #options: PolygonAdapterOptions;
  /** Start of the newest bar parsed on the current connection, any ticker (exchange time). */
  #liveStartMs: number | undefined;
  // A malformed frame was seen; the next newer bar triggers a REST reconcile (see parse).
  #lossSuspected = false;
  #lossSuspectedAfterMs = 0;
  /** Newest window end (`e`) seen on any connection: the venue's clock is at least this. */
  #venueSeenMs = Number.NEGATIVE_INFINITY;
  /** `max_connections` kicks since data last flowed. */
  #kicks = 0;

  constructor(options: PolygonAdapterOptions) {
    this.#options = options;
    // Only when asked: without the hook the engine queues no backfill marks.
    if (options.onBackfill !== undefined) this.onBackfill = options.onBackfill;
  }

  connections() {
    return [{ id: 'polygon:stocks', url: this.#options.wsUrl, symbols: this.#options.tickers }];
  }

  /**
   * Another client holds the account's one connection (`max_connections`). Taking it back at
   * once would kick that client, which reconnects and kicks us: back off longer with every kick.
   * The wait comes before connecting, never on an open socket, where the server's
   * `auth_timeout` would end it (PROTOCOLS.md §2.3).
   */
  connectDelayMs(_plan: ConnectionPlan): { delayMs: number; reason: string } {
    if (this.#kicks === 0) return { delayMs: 0, reason: '' };
    return {
      delayMs: maxConnectionsCoolDownMs(this.#kicks, this.#options.maxCoolDownMs),
      reason: `max_connections: another client took the key's connection (${this.#kicks} time(s)); cooling down before reconnecting`,
    };
  }

  async handshake(context: EngineHandshake): Promise<void> {
    const { apiKey, ev, tickers, feed } = this.#options;
    const handshake = new PolygonHandshake({ apiKey, ev, tickers, feed });
    let subscribed = false;
    while (!handshake.ready) {
      const frame = await context.nextFrame(this.#options.handshakeTimeoutMs);
      const items = parseFrame(frame, ev);
      if (subscribed && items.some((item) => item.kind === 'bar')) {
        // Data is flowing before every ack came: the subscription works; let parse() have it.
        context.unread(frame);
        break;
      }
      for (const item of items) {
        if (item.kind !== 'status') continue;
        const outcome = handshake.onStatus(item.status, item.message);
        if (outcome.action === 'send') {
          context.send(outcome.frame);
          if (outcome.frame.includes('"subscribe"')) subscribed = true;
        } else if (outcome.action === 'fail') {
          throw outcome.error;
        }
      }
    }
    this.#liveStartMs = undefined;
  }

  parse(frame: string, sink: FrameSink): void {
    for (const item of parseFrame(frame, this.#options.ev)) {
      if (item.kind === 'bar') {
        const startMs = item.bar.time.getTime();
        this.#kicks = 0;
        if (this.#liveStartMs === undefined || startMs > this.#liveStartMs) {
          this.#liveStartMs = startMs;
        }
        if (item.endMs > this.#venueSeenMs) this.#venueSeenMs = item.endMs;
        if (this.#lossSuspected && startMs > this.#lossSuspectedAfterMs) {
          // Quiet minutes are normal here, so a bar lost in a malformed frame leaves no visible
          // gap: reconcile over REST up to this newer bar, which bounds whatever was lost.
          this.#lossSuspected = false;
          sink.dataLost();
        }
        sink.bar(item.bar);
        sink.exchangeTime(item.endMs);
      } else if (item.kind === 'error') {
        if (item.error.code === 'PROTOCOL' && !this.#lossSuspected) {
          this.#lossSuspected = true;
          this.#lossSuspectedAfterMs = this.#liveStartMs ?? 0;
        }
        sink.error(item.error);
      } else {
        if (item.status === 'max_connections') this.#kicks += 1;
        const outcome = liveStatus(item.status, item.message, this.#options.feed);
        if (outcome) sink.error(outcome);
      }
    }
  }

  /**
   * Bars of `symbol` after `afterOpenMs` that closed while we were away. Polygon's REST may
   * include the bar still forming, so each response keeps only the bars closed by the venue's
   * clock (its `Date` header), never by the first bar of the new socket: that can be a corrected
   * re-send of an older minute (PROTOCOLS.md §2.3), and after hours there may be none at all.
   * Bars that close later arrive on the socket (the engine calls this once it is live).
   */
  async backfill(symbol: string, afterOpenMs: number, signal: AbortSignal): Promise<MarketData[]> {
    const stepMs = this.#options.ev === 'A' ? SECOND_MS : MINUTE_MS;
    const timespan = this.#options.ev === 'A' ? 'second' : 'minute';
    // Any bound past the venue's now will do: REST serves nothing after it.
    const toMs = Math.max(Date.now(), this.#venueSeenMs) + BACKFILL_HORIZON_MS;
    const { bars } = await this.#options.rest.closedBars(
      symbol,
      1,
      timespan,
      afterOpenMs + stepMs,
      toMs,
      stepMs,
      signal,
    );
    return bars.filter((bar) => bar.time.getTime() > afterOpenMs);
  }
}

/** Our choice: how far past the newest known time a backfill's `to` reaches (a year). */
const BACKFILL_HORIZON_MS = 366 * 86_400_000;

/** Our choice: first cool-down after `max_connections`; doubles per kick, up to the cap. */
export const MAX_CONNECTIONS_COOL_DOWN_MS = 5000;

/** Wait before re-authenticating after the `kicks`-th consecutive `max_connections`. */
export function maxConnectionsCoolDownMs(kicks: number, capMs: number): number {
  return Math.min(capMs, MAX_CONNECTIONS_COOL_DOWN_MS * 2 ** Math.max(0, kicks - 1));
}
