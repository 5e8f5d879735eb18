import type { MarketDataError } from '../core/errors.js';
import type { MarketData } from '../core/types.js';

/** One socket the engine keeps open: where it goes and which symbols it carries. */
export interface ConnectionPlan {
  /** Stable name used in status callbacks and errors, e.g. `binance:btcusdt`. */
  id: string;
  /** Full WebSocket URL. Must not carry a secret (authenticate in `handshake`). */
  url: string;
  /** Symbols whose bars arrive on this socket (as they appear in `MarketData.symbol`). */
  symbols: readonly string[];
}

/**
 * Where `parse` puts what it found in one frame. One sink exists per connection (made when
 * the connection opens), so parsing a frame allocates nothing but the bars themselves.
 */
export interface FrameSink {
  /** A CLOSED (final) bar. The engine dedups, orders and backfills; just report it. */
  bar(bar: MarketData): void;
  /**
   * An exchange timestamp carried by the frame (Binance `E`). Drives proactive rotation
   * (`maxConnectionAgeMs` is measured in exchange time, never the local clock).
   */
  exchangeTime(timeMs: number): void;
  /**
   * A problem with this frame or the feed. Non-fatal (`PROTOCOL` for a malformed frame) is
   * yielded and the stream goes on; fatal is yielded and the stream ends.
   */
  error(error: MarketDataError): void;
  /**
   * Data may have been lost on this socket without a disconnect (e.g. a malformed frame where a
   * feed with normal gaps cannot tell which bar it carried): the engine backfills every symbol of
   * the socket over REST, as after a reconnect. Call it once a later bar has shown the feed is
   * past the loss, so the backfill's range covers it.
   */
  dataLost(): void;
  /**
   * The server announced this socket will close (Binance `serverShutdown`): the engine opens a
   * replacement at once and closes this one after the replacement is up.
   */
  reconnect(reason: string): void;
}

/** What a handshake may do with a freshly opened socket. */
export interface HandshakeContext {
  readonly plan: ConnectionPlan;
  /** Aborts when the stream stops. */
  readonly signal: AbortSignal;
  send(text: string): void;
  /**
   * The next text frame. Rejects with a non-fatal `NETWORK` error when the socket closes or
   * `timeoutMs` passes, and with `ABORTED` when the stream stops.
   */
  nextFrame(timeoutMs: number): Promise<string>;
  /** Give a frame back (e.g. one that carried data after an ack): `parse` will see it. */
  unread(frame: string): void;
}

/**
 * Everything exchange-specific the resilient engine needs. The engine knows no exchange names;
 * a provider supplies one of these (see `providers/binance/stream.ts`).
 *
 * Contract, in the order the engine uses it:
 * 1. `prepare` once per `stream()` call (validate symbols; throw a fatal error to end).
 * 2. `connections()` once: the sockets to keep open.
 * 3. Per socket, on every (re)connect: `handshake` (optional) before the socket counts as
 *    connected; throw a fatal `MarketDataError` (`AUTH_FAILED`) to end the stream, any other
 *    error to retry with backoff.
 * 4. Per text frame: `parse(frame, sink)`. Must not throw; report problems with `sink.error`.
 * 5. After a reconnect, per symbol of that socket that has yielded a bar:
 *    `backfill(symbol, afterOpenMs)`. Called once the new socket is live, so every bar that
 *    closes from then on arrives on the socket; the adapter returns (in open-time order) the
 *    closed bars with open time > `afterOpenMs` that closed up to now, by the exchange's clock,
 *    never a bar still open. Bars the socket also delivers are dropped by the engine's dedup.
 *    A missing bar there means none existed (e.g. a Polygon minute without trades); the engine
 *    invents nothing.
 */
export interface StreamAdapter {
  /** Prefix for status names and messages, e.g. `binance`. */
  readonly venue: string;
  /**
   * True when only data frames prove a socket alive (Binance pushes every 1–2 s, and a stream
   * for an unknown symbol stays silent while still answering pings). False when pings and pongs
   * count too (a feed that is legitimately quiet for long periods).
   */
  readonly livenessFromData: boolean;
  /**
   * Optional: the venue wants an application-level ping (a text frame such as Bybit's
   * `{"op":"ping"}` or OKX's `ping`) instead of a WebSocket ping control frame. The engine sends it
   * every `pingIntervalMs`; the venue's answer reaches `parse` like any frame (ignore it there).
   */
  readonly pingText?: string;
  /**
   * Open time of the bar after `openMs`, when the exchange emits a bar for every interval
   * (Binance does, even without trades). With it, a live bar that skips open times starts a
   * backfill even without a reconnect. Leave undefined when gaps are normal (Polygon).
   */
  readonly nextOpenMs?: (openMs: number) => number;
  prepare?(signal: AbortSignal): Promise<void>;
  connections(): ConnectionPlan[];
  /**
   * Optional: called before every connect attempt of `plan`; returns how long (ms) to wait
   * first, to keep under an exchange's limit on new connections per IP (Binance: 300 per
   * 5 minutes). The engine reports a wait as `reconnecting` with the reason.
   */
  connectDelayMs?(plan: ConnectionPlan): { delayMs: number; reason: string };
  handshake?(context: HandshakeContext): Promise<void>;
  parse(frame: string, sink: FrameSink): void;
  backfill(symbol: string, afterOpenMs: number, signal: AbortSignal): Promise<MarketData[]>;
  /**
   * Optional, used instead of `backfill` when present: the same bars, handed to
   * `context.onPage` page by page as they arrive (awaited: a slow consumer slows the paging, and
   * a long outage never sits in memory whole). `context.liveSinceMs` is the local
   * `performance.now()` at which the socket went live, so one venue-time read made after it can
   * serve every symbol of one reconnect.
   */
  backfillPages?(symbol: string, afterOpenMs: number, context: BackfillContext): Promise<void>;
  /**
   * Optional: told where a symbol's backfill starts and ends **in the consumer's order**, i.e.
   * called by the iterator between the items it yields, never when the engine decides. Between
   * `started` and `done`, the symbol's bars come from REST (and then from the live bars held
   * meanwhile), so other symbols' bars may run ahead of it in time; after `done`, every bar of
   * the symbol the backfill covered has been yielded. Each `started` is followed by one `done`
   * unless the stream ends first. A provider that combines symbols (e.g. closes one symbol's
   * buckets by another symbol's exchange time) needs this; a plain stream does not.
   */
  onBackfill?(symbol: string, phase: BackfillPhase): void;
}

/** What {@link StreamAdapter.backfillPages} gets. */
export interface BackfillContext {
  readonly signal: AbortSignal;
  /** Local `performance.now()` when the loss was noticed (the new socket was live). */
  readonly liveSinceMs: number;
  onPage(bars: MarketData[]): Promise<void>;
}

/** See {@link StreamAdapter.onBackfill}. */
export type BackfillPhase = 'started' | 'done';
