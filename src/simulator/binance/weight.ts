// Per-IP request weight (PROTOCOLS.md §1.3). The window is one minute of SIMULATED time,
// aligned to the minute; Retry-After is given in real seconds so a client can simply obey it.

import type { SimClock } from '../clock.js';
import {
  BAN_MAX_MS,
  BAN_MIN_MS,
  type BinanceError,
  errors,
  STRIKES_BEFORE_BAN,
  WEIGHT_WINDOW_MS,
} from './protocol.js';

/** The outcome of charging a request. */
export type Charge =
  | { ok: true; used: number }
  | { ok: false; status: 429 | 418; retryAfterSec: number; used: number; body: BinanceError };

/** One IP's weight budget (the simulator sees every client as the same IP). */
export class WeightBudget {
  readonly #limit: number;
  readonly #clock: SimClock;
  #windowStartMs = -1;
  #used = 0;
  #strikes = 0;
  #bans = 0;
  #bannedUntilMs = 0;

  constructor(limit: number, clock: SimClock) {
    this.#limit = limit;
    this.#clock = clock;
  }

  /** Weight used in the current window. */
  used(): number {
    this.#roll(this.#clock.now());
    return this.#used;
  }

  charge(weight: number): Charge {
    const nowMs = this.#clock.now();
    this.#roll(nowMs);
    if (nowMs < this.#bannedUntilMs) {
      return this.#reject(418, this.#bannedUntilMs, nowMs, errors.banned(this.#bannedUntilMs));
    }
    if (this.#used + weight <= this.#limit) {
      this.#used += weight;
      return { ok: true, used: this.#used };
    }
    this.#strikes++;
    if (this.#strikes > STRIKES_BEFORE_BAN) {
      const banMs = Math.min(BAN_MAX_MS, BAN_MIN_MS * 2 ** this.#bans);
      this.#bans++;
      this.#strikes = 0;
      this.#bannedUntilMs = nowMs + banMs;
      return this.#reject(418, this.#bannedUntilMs, nowMs, errors.banned(this.#bannedUntilMs));
    }
    const windowEndMs = this.#windowStartMs + WEIGHT_WINDOW_MS;
    return this.#reject(429, windowEndMs, nowMs, errors.tooMuchWeight(this.#limit));
  }

  #reject(status: 429 | 418, untilMs: number, nowMs: number, body: BinanceError): Charge {
    const retryAfterSec = Math.max(1, Math.ceil(this.#clock.realMsFor(untilMs - nowMs) / 1000));
    return { ok: false, status, retryAfterSec, used: this.#used, body };
  }

  #roll(nowMs: number): void {
    const windowStartMs = Math.floor(nowMs / WEIGHT_WINDOW_MS) * WEIGHT_WINDOW_MS;
    if (windowStartMs !== this.#windowStartMs) {
      // Strikes (requests refused with 429) count within one window; bans persist.
      this.#strikes = 0;
      this.#windowStartMs = windowStartMs;
      this.#used = 0;
    }
  }
}
