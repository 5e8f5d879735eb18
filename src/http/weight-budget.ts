/**
 * Request-weight budget read from the exchange's response headers (PROTOCOLS.md §1.3:
 * `X-MBX-USED-WEIGHT-1M`, live traffic `X-MBX-USED-WEIGHT-1m` and an unsuffixed
 * `X-MBX-USED-WEIGHT`; names matched case-insensitively).
 *
 * Policy (our choice): once the used weight reaches `threshold` × limit (80% by default), new
 * requests wait until the next one-minute window opens, measured on the SERVER's clock from the
 * response `Date` header (the exchange counts calendar minutes on its own clock; ours may be
 * skewed). Without a `Date` header our clock is used. `Date` has one-second resolution, so one
 * extra second is waited; the wait never exceeds one window. Leaving 20% unused covers the
 * requests already in flight when the header arrives (concurrent paging) and other programs on
 * the same IP.
 */
export class WeightBudget {
  private usedWeight = 0;
  /** Local time at which the current window ends (next minute on the server clock). */
  private windowEndsAtMs = 0;

  constructor(
    private limitPerMinute: number,
    private readonly threshold = 0.8,
  ) {}

  get limit(): number {
    return this.limitPerMinute;
  }

  get used(): number {
    return this.usedWeight;
  }

  /** Use the exchange's published limit (exchangeInfo `rateLimits`, REQUEST_WEIGHT/MINUTE). */
  setLimit(limitPerMinute: number): void {
    if (Number.isFinite(limitPerMinute) && limitPerMinute > 0) this.limitPerMinute = limitPerMinute;
  }

  /** Read the used weight and the server clock from a response. */
  observe(headers: Headers, localNowMs = Date.now()): void {
    const used = usedWeightFromHeaders(headers);
    if (used === undefined) return;
    const serverDateMs = Date.parse(headers.get('date') ?? '');
    const windowEndsAtMs = nextWindowStartLocalMs(localNowMs, serverDateMs);
    // Responses can arrive out of order under concurrency: within one window keep the highest.
    if (windowEndsAtMs > this.windowEndsAtMs) {
      this.windowEndsAtMs = windowEndsAtMs;
      this.usedWeight = used;
    } else if (used > this.usedWeight) {
      this.usedWeight = used;
    }
  }

  /** How long to wait before the next request (0 when the budget has room). */
  delayMs(localNowMs = Date.now()): number {
    if (localNowMs >= this.windowEndsAtMs) return 0;
    if (this.usedWeight < this.limitPerMinute * this.threshold) return 0;
    return this.windowEndsAtMs - localNowMs;
  }
}

const USED_WEIGHT = /^x-mbx-used-weight(?:-1m)?$/i;

/**
 * The 1-minute used weight from `X-MBX-USED-WEIGHT-1M`/`-1m`, else the unsuffixed header;
 * undefined when neither is present or parsable.
 */
export function usedWeightFromHeaders(headers: Headers): number | undefined {
  let minute: number | undefined;
  let unsuffixed: number | undefined;
  headers.forEach((value, name) => {
    if (!USED_WEIGHT.test(name)) return;
    const weight = Number.parseInt(value, 10);
    if (!Number.isFinite(weight)) return;
    if (name.length > 'x-mbx-used-weight'.length) minute = weight;
    else unsuffixed = weight;
  });
  return minute ?? unsuffixed;
}

const MINUTE_MS = 60_000;
/** `Date` has one-second resolution: wait this much longer to be past the boundary. */
const DATE_RESOLUTION_MS = 1000;

/** Local time at which the server's next minute starts (server clock from `Date` if known). */
export function nextWindowStartLocalMs(localNowMs: number, serverDateMs: number): number {
  if (!Number.isFinite(serverDateMs)) {
    return Math.floor(localNowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  }
  const serverWindowEndMs = Math.floor(serverDateMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const waitMs = Math.min(MINUTE_MS, serverWindowEndMs - serverDateMs + DATE_RESOLUTION_MS);
  return localNowMs + waitMs;
}
