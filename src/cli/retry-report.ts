import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ConnectionStatus, StatusDetail } from '../core/types.js';
import { REQUEST_RETRY_CHANNEL, type RequestRetryEvent } from '../http/request.js';
import type { CliIo } from './context.js';
import { isoSeconds } from './output.js';

/**
 * Prints every REST retry on stderr, what is retried, which try of how many and when the next
 * one is: `retry 2/5 in 1.3 s (at 21:14:05Z): GET … failed: fetch failed (ECONNREFUSED)`.
 * Returns the remover.
 */
export function reportRequestRetries(io: CliIo): () => void {
  const onRetry = (message: unknown) => {
    const event = message as RequestRetryEvent;
    io.stderr.write(
      `retry ${event.attempt}/${event.maxRetries} of a ${event.service} request in ${seconds(event.delayMs)} (${at(event.delayMs)}): ${event.error.message}\n`,
    );
  };
  subscribe(REQUEST_RETRY_CHANNEL, onRetry);
  return () => {
    unsubscribe(REQUEST_RETRY_CHANNEL, onRetry);
  };
}

/**
 * One status line: `status: reconnecting binance:btcusdt [BTCUSDT] attempt 3, next try in
 * 2.1 s (at 21:14:05Z): connect ECONNREFUSED 127.0.0.1:1`. The reason is always shown: "why"
 * is what a user offline needs first.
 */
export function formatStatusLine(
  status: ConnectionStatus,
  detail: StatusDetail,
  provider: string,
): string {
  const symbols = detail.symbols.length > 0 ? ` [${detail.symbols.join(',')}]` : '';
  const head = `status: ${status} ${detail.connection}${symbols}`;
  const retry =
    status === 'reconnecting' && detail.delayMs !== undefined
      ? `${detail.attempt === undefined ? '' : ` attempt ${detail.attempt},`} next try in ${seconds(detail.delayMs)} (${at(detail.delayMs)})`
      : '';
  const reason = detail.reason ? `: ${detail.reason}` : '';
  const hint =
    status === 'reconnecting' && detail.attempt === 1
      ? ` (the ${provider} stream keeps retrying with backoff; Ctrl-C stops it)`
      : '';
  return `${head}${retry}${reason}${hint}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function at(delayMs: number): string {
  return `at ${isoSeconds(new Date(Math.ceil((Date.now() + delayMs) / 1000) * 1000)).slice(11)}`;
}
