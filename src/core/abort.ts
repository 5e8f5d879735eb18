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

/** An abort signal of one operation, linked to a longer-lived one; see {@link linkedAbort}. */
export interface LinkedAbort {
  readonly signal: AbortSignal;
  /** Aborts this operation only. */
  abort(reason?: unknown): void;
  /** Unlinks from the parent; call when the operation ends, aborted or not. */
  release(): void;
}

/**
 * A signal that aborts when `parent` does or when `abort()` is called, for one operation of a
 * long-lived stream. Not `AbortSignal.any`: Node keeps every signal it returns reachable from a
 * long-lived source (nodejs/node#55351, #64476), so one per REST request grows the heap for as
 * long as the stream runs. `release()` removes the only link.
 */
export function linkedAbort(parent: AbortSignal | undefined): LinkedAbort {
  const controller = new AbortController();
  const abort = (reason?: unknown): void => controller.abort(reason);
  if (parent === undefined) return { signal: controller.signal, abort, release: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, abort, release: () => {} };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort,
    release: () => parent.removeEventListener('abort', onAbort),
  };
}
