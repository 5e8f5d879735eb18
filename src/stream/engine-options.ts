import type { MarketDataError } from '../core/errors.js';
import type { ConnectionStatus, MarketData, StatusDetail, StatusListener } from '../core/types.js';

/** What the engine lets an observer read at scrape time (never on the hot path). */
export interface EngineView {
  queueDepth(): number;
  pausedSockets(): number;
}

/**
 * Observer hooks of one stream (src/metrics implements them). Called on the consumer's side of
 * the queue: `bar` once per yielded bar, so keep it to a counter increment.
 */
export interface StreamHooks {
  bar(bar: MarketData): void;
  error(error: MarketDataError): void;
  /** A gap found after a reconnect: REST backfill started for `symbol`. */
  gap(symbol: string): void;
  status(status: ConnectionStatus, detail: StatusDetail): void;
  /** A bar of `symbol` fetched over REST to fill a gap was queued (producer side). */
  backfilled?(symbol: string): void;
  /** Called once when the engine starts, so gauges can read queue depth and paused sockets. */
  attach?(view: EngineView): void;
}

/** Engine tunables; the providers pass their validated config (zod defaults applied). */
export interface EngineOptions {
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Consecutive failed reconnects before `RECONNECT_EXHAUSTED`; undefined = unlimited. */
  maxReconnectAttempts?: number | undefined;
  silenceTimeoutMs: number;
  pingIntervalMs: number;
  /** Rotate a socket once it has carried this much exchange time; undefined = never. */
  maxConnectionAgeMs?: number | undefined;
  bufferSize: number;
  connectTimeoutMs: number;
  /** Read at every status change, so a listener set after `stream()` still hears. */
  onStatus?: () => StatusListener | undefined;
  /** Metrics/health observer; undefined = nothing measured. */
  hooks?: StreamHooks | undefined;
}

/** The engine's options from a validated provider config (its resilience fields). */
export function engineOptions(
  config: Omit<EngineOptions, 'onStatus'>,
  onStatus: () => StatusListener | undefined,
  hooks?: StreamHooks,
): EngineOptions {
  return {
    reconnectInitialDelayMs: config.reconnectInitialDelayMs,
    reconnectMaxDelayMs: config.reconnectMaxDelayMs,
    maxReconnectAttempts: config.maxReconnectAttempts,
    silenceTimeoutMs: config.silenceTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    maxConnectionAgeMs: config.maxConnectionAgeMs,
    bufferSize: config.bufferSize,
    connectTimeoutMs: config.connectTimeoutMs,
    onStatus,
    hooks,
  };
}
