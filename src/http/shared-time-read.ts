/**
 * A venue's server-time read shared by every caller with the same `AbortSignal` (one stream):
 * after a reconnect, all symbols of the socket backfill up to one read, so a reconnect costs one
 * server-time request, not one per symbol. A failed read is forgotten, so the next caller tries
 * again.
 */
export class SharedTimeRead {
  readonly #reads = new WeakMap<AbortSignal, { startedAtMs: number; promise: Promise<number> }>();

  /** `read`: the venue's own server-time request. */
  constructor(private readonly read: (signal: AbortSignal) => Promise<number>) {}

  /** A server time read no earlier than `sinceMs` (local `performance.now()`). */
  since(sinceMs: number, signal: AbortSignal): Promise<number> {
    const existing = this.#reads.get(signal);
    if (existing !== undefined && existing.startedAtMs >= sinceMs) return existing.promise;
    const startedAtMs = performance.now();
    const promise = this.read(signal);
    const entry = { startedAtMs, promise };
    this.#reads.set(signal, entry);
    promise.catch(() => {
      if (this.#reads.get(signal) === entry) this.#reads.delete(signal);
    });
    return promise;
  }
}
