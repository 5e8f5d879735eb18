import type { Connection } from './connection.js';

/** What the heartbeat decided on a tick. */
export type HeartbeatVerdict = 'ok' | 'ping' | 'silent';

/**
 * Pure tick logic: a paused socket is never "silent" (we stopped reading it), a socket with no
 * frame for `silenceTimeoutMs` is dead, and one we have not pinged for `pingIntervalMs` gets a
 * ping.
 */
export function heartbeatVerdict(
  nowMs: number,
  lastFrameAtMs: number,
  lastPingAtMs: number,
  paused: boolean,
  silenceTimeoutMs: number,
  pingIntervalMs: number,
): HeartbeatVerdict {
  if (!paused && nowMs - lastFrameAtMs > silenceTimeoutMs) return 'silent';
  if (nowMs - lastPingAtMs >= pingIntervalMs) return 'ping';
  return 'ok';
}

/**
 * True when a connection has lived `maxAgeMs` of exchange time (first to latest event time
 * seen on it): time to rotate before the exchange's forced cut.
 */
export function connectionTooOld(
  firstExchangeTimeMs: number | undefined,
  latestExchangeTimeMs: number,
  maxAgeMs: number | undefined,
): boolean {
  return (
    maxAgeMs !== undefined &&
    firstExchangeTimeMs !== undefined &&
    latestExchangeTimeMs - firstExchangeTimeMs >= maxAgeMs
  );
}

/**
 * One interval timer per connection: pings every `pingIntervalMs` and terminates the socket
 * once it has been silent past `silenceTimeoutMs`. Frames only stamp `lastFrameAtMs`; no timer
 * is created per frame. Returns the stop function.
 */
export function startHeartbeat(
  connection: Connection,
  silenceTimeoutMs: number,
  pingIntervalMs: number,
): () => void {
  const tickMs = Math.max(10, Math.min(pingIntervalMs, Math.ceil(silenceTimeoutMs / 4)));
  const timer = setInterval(() => {
    const verdict = heartbeatVerdict(
      Date.now(),
      connection.lastFrameAtMs,
      connection.lastPingAtMs,
      connection.isPaused,
      silenceTimeoutMs,
      pingIntervalMs,
    );
    if (verdict === 'silent') {
      connection.terminate(`no data for ${silenceTimeoutMs} ms; treating the socket as dead`);
    } else if (verdict === 'ping') {
      connection.ping();
    }
  }, tickMs);
  return () => clearInterval(timer);
}
