import type { StatusListener } from '../core/types.js';

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
}

/** The engine's options from a validated provider config (its resilience fields). */
export function engineOptions(
  config: Omit<EngineOptions, 'onStatus'>,
  onStatus: () => StatusListener | undefined,
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
  };
}
