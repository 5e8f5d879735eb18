// Polygon's 429 pacing (PROTOCOLS.md §2.2, §3.12), shared by every request of one PolygonRest.

import type { RequestGate } from '../../http/request.js';
import type { RestSchedulerObserver } from '../../http/rest-scheduler.js';
import {
  RATE_LIMIT_FALLBACK_WAIT_MS,
  RATE_LIMIT_MAX_WAIT_MS,
  RATE_LIMIT_WINDOW_MS,
} from './protocol.js';

/** {@link PolygonRateGate}'s numbers. */
export interface RatePacing {
  /** Wait after a 429 without `Retry-After`, and the spacing of requests for a window after. */
  fallbackWaitMs: number;
  /** A window this long without a 429 restores full speed. */
  windowMs: number;
}

/**
 * The 429 gate shared by every request of one {@link PolygonRest} (the windows of a download, the
 * backfills of a stream): a 429 holds all of them back. A 429 without `Retry-After` suggests the
 * free tier (PROTOCOLS.md §3.12), so for one window after it requests are spaced one free-tier
 * slot apart; a slot that would start after that window goes at full speed, so a single 429
 * never slows a long-lived stream for good. A later 429 starts a new window.
 */
export class PolygonRateGate implements RequestGate {
  readonly #pacing: RatePacing;
  /** Local clock before which no request starts. */
  #blockedUntilMs = 0;
  #minSpacingMs = 0;
  #nextSlotMs = 0;
  /** Local time of the last 429 that set a spacing. */
  #limitedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    pacing: RatePacing = {
      fallbackWaitMs: RATE_LIMIT_FALLBACK_WAIT_MS,
      windowMs: RATE_LIMIT_WINDOW_MS,
    },
  ) {
    this.#pacing = pacing;
  }

  /** Spacing between request starts now (0 = full speed). */
  spacingMs(nowMs = Date.now()): number {
    if (this.#minSpacingMs > 0 && nowMs - this.#limitedAtMs >= this.#pacing.windowMs) {
      this.#minSpacingMs = 0;
    }
    return this.#minSpacingMs;
  }

  /** Reserves the next slot: two requests asking at once get consecutive slots. */
  delayMs(nowMs = Date.now()): number {
    const startAtMs = Math.max(nowMs, this.#blockedUntilMs, this.#nextSlotMs);
    // Only inside the window after the 429: past it, requests are not spaced any more.
    this.#nextSlotMs = startAtMs + this.spacingMs(startAtMs);
    return startAtMs - nowMs;
  }

  onRateLimited(retryAfterMs: number | undefined, nowMs = Date.now()): void {
    if (retryAfterMs === undefined) {
      this.#minSpacingMs = this.#pacing.fallbackWaitMs;
      this.#limitedAtMs = nowMs;
    }
    const waitMs = Math.min(retryAfterMs ?? this.#pacing.fallbackWaitMs, RATE_LIMIT_MAX_WAIT_MS);
    this.#blockedUntilMs = Math.max(this.#blockedUntilMs, nowMs + waitMs);
  }
}

/**
 * `gate` told to `observer` (metrics): one request of cost 1 per attempt (`delayMs` is asked once
 * per attempt) and a `rate-limited` pause per 429.
 */
export function observedGate(gate: RequestGate, observer: RestSchedulerObserver): RequestGate {
  return {
    delayMs: () => {
      observer.granted(1);
      return gate.delayMs();
    },
    ...(gate.observe ? { observe: (headers: Headers) => gate.observe?.(headers) } : {}),
    onRateLimited: (retryAfterMs) => {
      observer.paused('rate-limited', retryAfterMs ?? 0);
      gate.onRateLimited?.(retryAfterMs);
    },
  };
}
