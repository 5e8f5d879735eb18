// Polygon WebSocket frames -> bars, statuses and errors (PROTOCOLS.md §2.3). Pure: no socket here.

import { sleep } from '../../core/abort.js';
import { MarketDataError } from '../../core/errors.js';
import { isPlausibleOhlcv } from '../../core/ohlcv.js';
import type { MarketData } from '../../core/types.js';
import type {
  BackfillPhase,
  HandshakeContext as EngineHandshake,
  FrameSink,
  StreamAdapter,
} from '../../stream/adapter.js';
import {
  type AggregateEvent,
  authFrame,
  EV_MINUTE,
  EV_SECOND,
  EV_STATUS,
  subscribeFrame,
} from './protocol.js';
import type { PolygonRest } from './rest.js';

/** One item of a server frame, after parsing. */
export type PolygonFrameItem =
  | { kind: 'bar'; bar: MarketData; endMs: number }
  | { kind: 'status'; status: string; message: string }
  | { kind: 'error'; error: MarketDataError };

const MAX_EXCERPT = 120;

function excerpt(text: string): string {
  return text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}…` : text;
}

function malformed(what: string, raw: string): PolygonFrameItem {
  return {
    kind: 'error',
    error: new MarketDataError('PROTOCOL', `malformed Polygon frame (${what}): ${excerpt(raw)}`, {
      fatal: false,
    }),
  };
}

function isAggregate(
  event: Record<string, unknown>,
): event is Record<string, unknown> & AggregateEvent {
  return (
    typeof event.sym === 'string' &&
    isPlausibleOhlcv(event.o, event.h, event.l, event.c, event.v) &&
    Number.isInteger(event.s) &&
    Number.isInteger(event.e)
  );
}

/**
 * Parses one server frame. Every server frame is a JSON array that may batch several events of
 * mixed types (PROTOCOLS.md §2.3). Bars of `wantedEv` become `bar` items, statuses `status`
 * items; a frame or event that does not parse becomes a non-fatal `PROTOCOL` error item and the
 * rest of the frame is still used. Other event types (e.g. trades) are ignored.
 */
export function parseFrame(raw: string, wantedEv: 'AM' | 'A'): PolygonFrameItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [malformed('not JSON', raw)];
  }
  if (!Array.isArray(parsed)) return [malformed('not a JSON array', raw)];
  const items: PolygonFrameItem[] = [];
  for (const event of parsed as unknown[]) {
    if (typeof event !== 'object' || event === null) {
      items.push(malformed('event is not an object', raw));
      continue;
    }
    const record = event as Record<string, unknown>;
    const ev = record.ev;
    if (ev === EV_STATUS) {
      if (typeof record.status !== 'string') {
        items.push(malformed('status event without status', raw));
        continue;
      }
      items.push({
        kind: 'status',
        status: record.status,
        message: typeof record.message === 'string' ? record.message : '',
      });
    } else if (ev === wantedEv) {
      if (!isAggregate(record)) {
        items.push(malformed(`${ev} event with missing or non-numeric fields`, raw));
        continue;
      }
      items.push({ kind: 'bar', bar: aggregateToBar(record), endMs: record.e });
    } else if (ev !== EV_MINUTE && ev !== EV_SECOND && typeof ev !== 'string') {
      items.push(malformed('event without ev', raw));
    }
  }
  return items;
}

/** An `AM`/`A` event as a bar; `time` is the window start (`s`). */
export function aggregateToBar(event: AggregateEvent): MarketData {
  return {
    id: '',
    symbol: event.sym,
    time: new Date(event.s),
    open: event.o,
    high: event.h,
    low: event.l,
    close: event.c,
    volume: event.v,
  };
}

/** What the connection should do after a status event. */
export type StatusOutcome =
  /** Send `frame` (auth or subscribe). */
  | { action: 'send'; frame: string }
  /** Every subscription was acknowledged: the connection is up. */
  | { action: 'ready' }
  /** Nothing to do. */
  | { action: 'none' }
  /** End this connection with `error`; reconnect unless `error.fatal`. */
  | { action: 'fail'; error: MarketDataError }
  /** Tell the consumer (non-fatal `error`) and go on. */
  | { action: 'warn'; error: MarketDataError };

/** Which host the key was used on, for messages that help the user fix a plan problem. */
export interface HandshakeContext {
  apiKey: string;
  ev: 'AM' | 'A';
  tickers: readonly string[];
  feed: 'realtime' | 'delayed';
}

/**
 * The connect → auth → subscribe handshake of one connection (PROTOCOLS.md §2.3), as a state
 * machine over status events. A new instance per connection: every reconnect re-authenticates and
 * re-subscribes.
 */
export class PolygonHandshake {
  readonly #context: HandshakeContext;
  #state: 'connecting' | 'authenticating' | 'subscribing' | 'ready' = 'connecting';
  #acksLeft: number;

  constructor(context: HandshakeContext) {
    this.#context = context;
    this.#acksLeft = context.tickers.length;
  }

  /** True once every subscription was acknowledged. */
  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** Feeds one status event; says what to do next. */
  onStatus(status: string, message: string): StatusOutcome {
    switch (status) {
      case 'connected':
        return this.#onConnected();
      case 'auth_success':
        if (this.#state !== 'authenticating') return { action: 'none' };
        this.#state = 'subscribing';
        return {
          action: 'send',
          frame: subscribeFrame(this.#context.ev, this.#context.tickers),
        };
      case 'success':
        // The vendor spec shows `success` as the connect status; live servers send `connected`.
        if (this.#state === 'connecting') return this.#onConnected();
        if (this.#state === 'subscribing' && /^subscribed to/i.test(message)) {
          this.#acksLeft -= 1;
          if (this.#acksLeft <= 0) {
            this.#state = 'ready';
            return { action: 'ready' };
          }
        }
        return { action: 'none' };
      case 'auth_failed':
      case 'auth_timeout':
      case 'auth_required':
      case 'max_connections':
      case 'force_disconnect':
      case 'slow_consumer':
        return { action: 'fail', error: statusError(status, message, this.#context.feed) };
      case 'error':
        // `not authorized` means a subscription outside the plan; other texts are informational.
        if (/not (authorized|entitled)|plan/i.test(message)) {
          return { action: 'fail', error: statusError(status, message, this.#context.feed) };
        }
        return {
          action: 'warn',
          error: statusError('unknown', `${status}: ${message}`, this.#context.feed),
        };
      default:
        return { action: 'warn', error: statusError(status, message, this.#context.feed) };
    }
  }

  #onConnected(): StatusOutcome {
    if (this.#state !== 'connecting') return { action: 'none' };
    this.#state = 'authenticating';
    return { action: 'send', frame: authFrame(this.#context.apiKey) };
  }
}

function feedHost(feed: 'realtime' | 'delayed'): string {
  return feed === 'delayed' ? 'the delayed feed' : 'the real-time feed';
}

/**
 * The error for a status that ends a connection, with what the user can do about it
 * (PROTOCOLS.md §2.3 status table, §3.15).
 */
export function statusError(
  status: string,
  message: string,
  feed: 'realtime' | 'delayed',
): MarketDataError {
  const said = message ? `: "${message}"` : '';
  switch (status) {
    case 'auth_failed':
      return new MarketDataError(
        'AUTH_FAILED',
        `Polygon rejected the API key on ${feedHost(feed)}${said}. Check the key, and that your plan includes WebSocket access to ${feedHost(feed)} (plans without real-time data need feed: 'delayed')`,
        { fatal: true },
      );
    case 'auth_timeout':
    case 'auth_required':
      return new MarketDataError(
        'PROTOCOL',
        `Polygon ended the session before authentication completed (${status}${said}); reconnecting`,
        { fatal: false },
      );
    case 'max_connections':
      // Not DISCONNECTED: that code marks the engine's own "socket closed" event in the stream.
      return new MarketDataError(
        'RATE_LIMITED',
        `Polygon closed this connection because another client authenticated with the same key (${status}${said}). A plan allows one connection per cluster: stop the other client or use another key; retrying with backoff`,
        { fatal: false },
      );
    case 'error':
      // `not authorized`: a subscription outside the plan. Retrying gets the same answer.
      return new MarketDataError(
        'AUTH_FAILED',
        `Polygon refused the subscription on ${feedHost(feed)}${said}. Your plan may not include this data; check the plan or use feed: 'delayed'`,
        { fatal: true },
      );
    case 'force_disconnect':
    case 'slow_consumer':
      return new MarketDataError(
        'NETWORK',
        `Polygon disconnected this client (${status}${said})${status === 'slow_consumer' ? '; the consumer read too slowly' : ''}; reconnecting`,
        { fatal: false },
      );
    default:
      return new MarketDataError(
        'PROTOCOL',
        `unexpected Polygon status '${status}'${said}; ignored`,
        { fatal: false },
      );
  }
}

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
  #liveWaiters: (() => void)[] = [];
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

  async handshake(context: EngineHandshake): Promise<void> {
    const { apiKey, ev, tickers, feed } = this.#options;
    const handshake = new PolygonHandshake({ apiKey, ev, tickers, feed });
    if (this.#kicks > 0) {
      // Another client holds the account's one connection. Taking it back at once would kick
      // that client, which reconnects and kicks us: back off longer with every kick.
      await sleep(
        maxConnectionsCoolDownMs(this.#kicks, this.#options.maxCoolDownMs),
        context.signal,
      );
    }
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
          if (this.#liveWaiters.length > 0) this.#wakeWaiters();
        }
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
   * include the bar still forming, so the range ends at the newest bar the new socket has
   * delivered (any ticker): that bar, and every one before it, is closed by the exchange's clock.
   * Later bars arrive on the socket. Until the socket has delivered something we wait; nothing
   * trading means nothing is missing yet either.
   */
  async backfill(symbol: string, afterOpenMs: number, signal: AbortSignal): Promise<MarketData[]> {
    while (this.#liveStartMs === undefined) await this.#untilLiveBar(signal);
    const boundMs = this.#liveStartMs;
    const stepMs = this.#options.ev === 'A' ? 1000 : 60_000;
    const timespan = this.#options.ev === 'A' ? 'second' : 'minute';
    const bars: MarketData[] = [];
    if (boundMs > afterOpenMs) {
      const fetched = await this.#options.rest.bars(
        symbol,
        1,
        timespan,
        afterOpenMs + stepMs,
        boundMs,
        signal,
      );
      for (const bar of fetched) {
        const openMs = bar.time.getTime();
        if (openMs > afterOpenMs && openMs <= boundMs) bars.push(bar);
      }
    }
    return bars;
  }

  #untilLiveBar(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#liveWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  #wakeWaiters(): void {
    const waiters = this.#liveWaiters;
    this.#liveWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** Our choice: first cool-down after `max_connections`; doubles per kick, up to the cap. */
export const MAX_CONNECTIONS_COOL_DOWN_MS = 5000;

/** Wait before re-authenticating after the `kicks`-th consecutive `max_connections`. */
export function maxConnectionsCoolDownMs(kicks: number, capMs: number): number {
  return Math.min(capMs, MAX_CONNECTIONS_COOL_DOWN_MS * 2 ** Math.max(0, kicks - 1));
}

/**
 * A status that arrives after the handshake: acks are nothing; `max_connections` and server
 * disconnects are explained (the server closes the socket and the engine reconnects); a refused
 * subscription is fatal.
 */
function liveStatus(
  status: string,
  message: string,
  feed: 'realtime' | 'delayed',
): MarketDataError | undefined {
  if (status === 'success' || status === 'connected' || status === 'auth_success') {
    return undefined;
  }
  if (status === 'error' && !/not (authorized|entitled)|plan/i.test(message)) {
    return statusError('unknown', `${status}: ${message}`, feed);
  }
  return statusError(status, message, feed);
}
