import { MarketDataError } from '../core/errors.js';

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): attempt n waits a uniform random time in `[0, min(max, initial * 2^(n-1))]`.
 * Full jitter spreads the reconnects of many clients dropped at the same moment (an exchange
 * restart) instead of sending them back in lock-step.
 */
export function backoffDelayMs(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceilingMs = Math.min(maxDelayMs, initialDelayMs * 2 ** exponent);
  return Math.floor(random() * ceilingMs);
}

/** Consecutive-failure counter with an optional budget; `reset()` after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialDelayMs: number,
    private readonly maxDelayMs: number,
    /** Consecutive failures allowed; undefined = unlimited. */
    private readonly maxAttempts: number | undefined,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures since the last success. */
  get attempt(): number {
    return this.failures;
  }

  /** Record a failure; the delay before the next attempt, or undefined when the budget is spent. */
  nextDelayMs(): number | undefined {
    this.failures += 1;
    if (this.maxAttempts !== undefined && this.failures > this.maxAttempts) return undefined;
    return backoffDelayMs(this.failures, this.initialDelayMs, this.maxDelayMs, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}

/**
 * The fatal `RECONNECT_EXHAUSTED` error once `backoff`'s budget is spent on `what`; shared by
 * the stream setup, every socket's reconnects and every backfill, so the message reads the same.
 */
export function reconnectExhausted(
  what: string,
  backoff: Backoff,
  lastError: MarketDataError | undefined,
): MarketDataError {
  return new MarketDataError(
    'RECONNECT_EXHAUSTED',
    `${what}: gave up after ${backoff.attempt - 1} consecutive failed attempts` +
      (lastError ? `; last error: ${lastError.message}` : ''),
    { fatal: true, cause: lastError },
  );
}
