/**
 * Temporary spacing of request starts, for a venue that refuses with 429 without saying how
 * long to wait or what its limit is (Polygon: PROTOCOLS.md §2.2, the limit depends on the plan).
 * {@link pace} spaces starts `spacingMs` apart for `forMs` from then; a start that falls after
 * that span goes at full speed, so one 429 never slows a long-lived process for good, and a
 * later {@link pace} starts a new span. Times are local milliseconds passed in by the caller
 * (the {@link RestScheduler} passes `performance.now()`), so the rule is testable as data.
 */
export class Pacer {
  #spacingMs = 0;
  /** Local ms at which the current span ends. */
  #untilMs = Number.NEGATIVE_INFINITY;
  /** Local ms before which the next start may not happen (inside the span). */
  #nextSlotMs = Number.NEGATIVE_INFINITY;

  /** Space starts `spacingMs` apart from `nowMs` until `nowMs + forMs`. */
  pace(spacingMs: number, forMs: number, nowMs: number): void {
    if (!(Number.isFinite(spacingMs) && spacingMs > 0 && Number.isFinite(forMs) && forMs > 0)) {
      return;
    }
    this.#spacingMs = spacingMs;
    this.#untilMs = nowMs + forMs;
  }

  /** Spacing between starts at `nowMs` (0 = full speed). */
  spacingMs(nowMs: number): number {
    return nowMs < this.#untilMs ? this.#spacingMs : 0;
  }

  /** Local ms from `nowMs` until a start is allowed (0 = now). */
  waitMs(nowMs: number): number {
    if (nowMs >= this.#untilMs) return 0;
    // A slot past the span's end starts with the end: after it, full speed.
    return Math.max(0, Math.min(this.#nextSlotMs, this.#untilMs) - nowMs);
  }

  /** A request starts at `nowMs`: the next one waits one spacing (inside the span). */
  started(nowMs: number): void {
    this.#nextSlotMs = nowMs + this.spacingMs(nowMs);
  }
}
