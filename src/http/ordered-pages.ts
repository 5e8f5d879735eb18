import { setMaxListeners } from 'node:events';
import { abortError, linkedAbort } from '../core/abort.js';

/**
 * Fetch `pages` with up to `concurrency` requests in flight (a number, or a function read
 * before each start so the window can follow a scheduler's adaptive bound) and hand the results to `consume`
 * strictly in page order (page i is consumed before page i+1, whatever finished first). Memory
 * stays bounded: only the pages in the window `[consumed, consumed + concurrency)` are fetched.
 * The first failure aborts the requests still in flight, waits for them to settle, and is
 * rethrown; so is the caller's abort.
 */
export async function fetchPagesInOrder<P, R>(
  pages: readonly P[],
  concurrency: number | (() => number),
  fetchPage: (page: P, index: number, signal: AbortSignal) => Promise<R>,
  consume: (result: R, page: P, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const link = linkedAbort(signal);
  // Every page in the window holds a listener on this signal while it waits for the host's
  // budget or is in flight, and an adaptive window may pass Node's default warning level of 10.
  // Not a leak: the count is bounded by the window, and each is removed when its page settles.
  setMaxListeners(0, link.signal);
  const inFlight = new Map<number, Promise<R>>();
  let nextToStart = 0;
  try {
    for (let index = 0; index < pages.length; index += 1) {
      while (nextToStart < pages.length && nextToStart < index + windowSize(concurrency)) {
        const page = pages[nextToStart] as P;
        const request = fetchPage(page, nextToStart, link.signal);
        // Awaited in order below; mark it handled now so an early failure of a later page is
        // not reported as unhandled while we wait for an earlier one.
        request.catch(() => {});
        inFlight.set(nextToStart, request);
        nextToStart += 1;
      }
      if (signal?.aborted) throw abortError(signal);
      const result = await (inFlight.get(index) as Promise<R>);
      inFlight.delete(index);
      await consume(result, pages[index] as P, index);
    }
  } catch (error) {
    link.abort();
    await Promise.allSettled(inFlight.values());
    if (signal?.aborted) throw abortError(signal, error);
    throw error;
  } finally {
    link.release();
  }
}

function windowSize(concurrency: number | (() => number)): number {
  const size = typeof concurrency === 'function' ? concurrency() : concurrency;
  return Math.max(1, Number.isFinite(size) ? Math.floor(size) : 1);
}
