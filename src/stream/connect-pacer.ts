/**
 * Spaces new connections so that at most `limit` start in any `windowMs` (an exchange's
 * "new connections per IP" limit). Each call reserves the earliest slot that keeps the limit
 * and returns how long to wait for it, so concurrent connects queue up instead of racing.
 */
export class ConnectPacer {
  readonly limit: number;
  readonly windowMs: number;
  /**
   * Added to the window: the exchange counts a connection when its request arrives, a little
   * after the slot we reserved, so a slot exactly one window later could still be refused.
   */
  readonly marginMs: number;
  readonly #now: () => number;
  /** Reserved start times, ascending; those older than one window are pruned. */
  #slots: number[] = [];

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.marginMs = Math.ceil(windowMs * MARGIN_FRACTION);
    this.#now = now;
  }

  /** Reserves the next slot; returns the delay in ms until it (0 = connect now). */
  reserve(): number {
    const nowMs = this.#now();
    const horizon = nowMs - this.windowMs;
    let stale = 0;
    while (stale < this.#slots.length && (this.#slots[stale] as number) <= horizon) stale += 1;
    if (stale > 0) this.#slots = this.#slots.slice(stale);
    let slotMs = nowMs;
    if (this.#slots.length >= this.limit) {
      const blocking = this.#slots[this.#slots.length - this.limit] as number;
      slotMs = Math.max(nowMs, blocking + this.windowMs + this.marginMs);
    }
    this.#slots.push(slotMs);
    return slotMs - nowMs;
  }
}

/** Our choice: 2% of the window (6 s of Binance's 5 minutes) as the margin. */
const MARGIN_FRACTION = 0.02;

const shared = new Map<string, ConnectPacer>();

/**
 * The pacer of one exchange host, shared by every stream of this process: the exchange counts
 * connections per IP, not per stream. Streams with different limits for the same host get
 * separate pacers.
 */
export function sharedConnectPacer(host: string, limit: number, windowMs: number): ConnectPacer {
  const key = `${host}|${limit}|${windowMs}`;
  let pacer = shared.get(key);
  if (pacer === undefined) {
    pacer = new ConnectPacer(limit, windowMs);
    shared.set(key, pacer);
  }
  return pacer;
}
