import { setTimeout as delay } from 'node:timers/promises';
import { MarketDataError } from './errors.js';

/** Resolves after `ms`, or rejects with an `ABORTED` MarketDataError when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    throw abortError(signal, error);
  }
}

/** The `ABORTED` error for an aborted operation. */
export function abortError(signal?: AbortSignal, cause?: unknown): MarketDataError {
  const reason = signal?.reason;
  if (MarketDataError.is(reason)) return reason;
  return new MarketDataError('ABORTED', 'operation aborted by its AbortSignal', {
    fatal: true,
    cause: cause ?? reason,
  });
}

/** Throws the `ABORTED` error if `signal` has aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** A signal that aborts when any of the given ones does (undefined entries are skipped). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 1 && present[0]) return present[0];
  return AbortSignal.any(present);
}
