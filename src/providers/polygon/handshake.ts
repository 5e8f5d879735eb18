// Polygon status events (PROTOCOLS.md §2.3): the auth/subscribe handshake and what each status
// means for the connection. Pure: no socket here.

import { MarketDataError } from '../../core/errors.js';
import { authFrame, subscribeFrame } from './protocol.js';

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

/**
 * A status that arrives after the handshake: acks are nothing; `max_connections` and server
 * disconnects are explained (the server closes the socket and the engine reconnects); a refused
 * subscription is fatal.
 */
export function liveStatus(
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
