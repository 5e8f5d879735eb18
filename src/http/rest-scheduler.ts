import { abortError } from '../core/abort.js';
import { Pacer } from './pacer.js';

/**
 * One rate limit of a venue host: at most `limit` cost units per `windowMs` (Binance: 6,000
 * weight per 60,000 ms; Bybit: 600 requests per 5,000 ms; OKX: 40 requests per 2,000 ms, where
 * a request costs 1).
 */
export interface RestWindow {
  limit: number;
  windowMs: number;
}

/**
 * The venue's clock as the scheduler counts windows on it. `now()` is venue epoch ms (our best
 * estimate); `realMsFor` converts a venue duration to local milliseconds to wait. The default is
 * the local clock; a test against the simulator passes the simulator's accelerated clock so that
 * windows are counted in the venue's time, as the real venue counts them in its own.
 */
export interface SchedulerClock {
  now(): number;
  realMsFor(venueMs: number): number;
}

/** Settings of one host's scheduler; see {@link RestScheduler}. */
export interface RestSchedulerOptions {
  /** The host's limits, in cost units (a request's weight, or 1 per request). */
  windows: readonly RestWindow[];
  /**
   * `aligned` (default): the venue counts calendar windows on its clock (Binance's minute).
   * `rolling`: any `windowMs` span counts (a sliding log of reservations).
   */
  mode?: 'aligned' | 'rolling';
  /**
   * Fraction of each limit we reserve (default 0.95). The rest covers requests the venue counts
   * in the next window (sent just before its boundary) and skew between our clock and the
   * venue's; the used-weight headers correct the count upwards when others share the IP.
   */
  headroom?: number;
  /** Most requests in flight at once (default 32); the actual bound adapts, see below. */
  maxConcurrency?: number;
  /** Fewest requests allowed in flight (default 2). */
  minConcurrency?: number;
  clock?: SchedulerClock;
}

/** Held by one request between {@link RestScheduler.acquire} and its response. */
export interface RestPermit {
  /**
   * The request finished (answered or failed). `latencyMs` (local ms from send to answer) feeds
   * the adaptive concurrency; omit it when the request failed without an answer.
   */
  release(latencyMs?: number): void;
}

/** Counters a test or the soak reads. */
export interface RestSchedulerStats {
  /** Permits granted (requests sent). */
  granted: number;
  /** Cost reserved in total. */
  reservedCost: number;
  /** Most requests ever in flight at once. */
  peakInFlight: number;
  /** Most requests ever waiting for capacity at once. */
  peakWaiting: number;
  /** Pauses ordered by 429s (`rateLimited`) and 418s (`banned`). */
  rateLimited: number;
  banned: number;
}

/**
 * Watches one scheduler (metrics): told of every permit granted and every pause. Optional;
 * a scheduler without observers pays one `undefined` check per grant.
 */
export interface RestSchedulerObserver {
  /** A request of `cost` was granted (it is about to be sent). */
  granted(cost: number): void;
  /** A 429 (`rate-limited`) or 418 (`banned`) paused the host for `ms` local milliseconds. */
  paused(reason: 'rate-limited' | 'banned', ms: number): void;
}

const LOCAL_CLOCK: SchedulerClock = { now: Date.now, realMsFor: (ms) => ms };
/** Our choice: weight of a new latency sample in the moving average. */
const LATENCY_ALPHA = 0.2;
/** Our choice: in-flight requests before the first latency sample. */
const INITIAL_CONCURRENCY = 4;
/**
 * Our choice: keep twice the requests that the window rate allows during one round trip in
 * flight, so a slower answer does not leave the budget idle (Little's law, with slack).
 */
const CONCURRENCY_SLACK = 2;

interface Waiter {
  cost: number;
  resolve: (permit: RestPermit) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface WindowState {
  window: RestWindow;
  /** Aligned mode: the venue window (index) counted in `used`. */
  index: number;
  used: number;
  /** Rolling mode: reservations `[venueMs, cost]`, oldest first. */
  log: Array<[number, number]>;
}

/**
 * The REST budget of one venue host, shared by every stream, download and sync of the process
 * (the venue counts per IP): requests ask it for capacity with their cost, and it grants a
 * permit only when every window has room for that cost *before* the request is sent, and fewer
 * than the concurrency bound are in flight. Waiters are served first come, first served.
 *
 * The concurrency bound adapts to latency and budget: about `CONCURRENCY_SLACK` × (requests the
 * windows allow per ms × moving-average latency), between `minConcurrency` and `maxConcurrency`,
 * so a slow venue gets more requests in flight and a fast one needs few.
 *
 * Corrections from the venue: {@link setLimit} (Binance `exchangeInfo.rateLimits`),
 * {@link observeUsed} (`X-MBX-USED-WEIGHT-1M`: others on the IP raise our count),
 * {@link noteServerTime} (aligns windows to the venue clock), and {@link pause} (`Retry-After`
 * of a 429, the end of a 418 ban): no permit is granted until the pause ends.
 */
export class RestScheduler {
  readonly stats: RestSchedulerStats = {
    granted: 0,
    reservedCost: 0,
    peakInFlight: 0,
    peakWaiting: 0,
    rateLimited: 0,
    banned: 0,
  };
  readonly #windows: WindowState[];
  readonly #mode: 'aligned' | 'rolling';
  readonly #headroom: number;
  readonly #maxConcurrency: number;
  readonly #minConcurrency: number;
  readonly #clock: SchedulerClock;
  readonly #waiters: Waiter[] = [];
  #inFlight = 0;
  #latencyMs: number | undefined;
  #averageCost = 1;
  /** Venue ms to add to `clock.now()` (learned from the venue's own time). */
  #offsetMs = 0;
  /** Local `performance.now()` until which nothing is sent. */
  #pausedUntil = 0;
  #pauseReason: 'rate-limited' | 'banned' | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Spacing of grants after a 429 that said nothing (see {@link pace}). */
  readonly #pacer = new Pacer();
  #observers: RestSchedulerObserver[] | undefined;

  constructor(options: RestSchedulerOptions) {
    this.#windows = options.windows.map((window) => ({
      window: { ...window },
      index: -1,
      used: 0,
      log: [],
    }));
    this.#mode = options.mode ?? 'aligned';
    this.#headroom = options.headroom ?? 0.95;
    this.#maxConcurrency = Math.max(1, options.maxConcurrency ?? 32);
    this.#minConcurrency = Math.min(this.#maxConcurrency, Math.max(1, options.minConcurrency ?? 2));
    this.#clock = options.clock ?? LOCAL_CLOCK;
  }

  /** Venue time as the scheduler counts it. */
  venueNowMs(): number {
    return this.#clock.now() + this.#offsetMs;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for capacity now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** The current concurrency bound (adapts to latency and the window rate). */
  get concurrency(): number {
    if (this.#latencyMs === undefined) {
      return Math.min(this.#maxConcurrency, Math.max(this.#minConcurrency, INITIAL_CONCURRENCY));
    }
    let requestsPerMs = Number.POSITIVE_INFINITY;
    for (const state of this.#windows) {
      const perMs = (state.window.limit * this.#headroom) / state.window.windowMs;
      requestsPerMs = Math.min(requestsPerMs, perMs / this.#averageCost);
    }
    // Local latency against venue-time windows: a venue ms lasts realMsFor(1) local ms.
    const venueLatencyMs = this.#latencyMs / Math.max(1e-9, this.#clock.realMsFor(1));
    const wanted = Math.ceil(requestsPerMs * venueLatencyMs * CONCURRENCY_SLACK) + 1;
    if (!Number.isFinite(wanted)) return this.#maxConcurrency;
    return Math.min(this.#maxConcurrency, Math.max(this.#minConcurrency, wanted));
  }

  /** Local ms until REST may be used again (0 when not paused), and why. */
  pauseState(): { remainingMs: number; reason: 'rate-limited' | 'banned' | undefined } {
    const remainingMs = Math.max(0, this.#pausedUntil - performance.now());
    return { remainingMs, reason: remainingMs > 0 ? this.#pauseReason : undefined };
  }

  /**
   * Waits until a request of `cost` fits every window and the concurrency bound, reserves the
   * cost and returns the permit. Rejects with `ABORTED` when `signal` aborts (nothing reserved).
   * A cost above a window's usable limit is granted alone in a fresh window (never waits forever).
   */
  acquire(cost: number, signal?: AbortSignal): Promise<RestPermit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<RestPermit>((resolve, reject) => {
      const waiter: Waiter = {
        cost: Math.max(0, cost),
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(abortError(signal));
          this.#pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.stats.peakWaiting = Math.max(this.stats.peakWaiting, this.#waiters.length);
      this.#pump();
    });
  }

  /** Adds an observer (metrics); returns the function that removes it again. */
  addObserver(observer: RestSchedulerObserver): () => void {
    this.#observers = [...(this.#observers ?? []), observer];
    return () => {
      const rest = (this.#observers ?? []).filter((o) => o !== observer);
      this.#observers = rest.length > 0 ? rest : undefined;
    };
  }

  /** Every window's length and current limit (venue ms, cost units). */
  windows(): RestWindow[] {
    return this.#windows.map((s) => ({ ...s.window }));
  }

  /** Adopt a limit the venue publishes (e.g. exchangeInfo REQUEST_WEIGHT per 1 MINUTE). */
  setLimit(windowMs: number, limit: number): void {
    if (!(Number.isFinite(limit) && limit > 0)) return;
    const state = this.#windows.find((s) => s.window.windowMs === windowMs);
    if (state === undefined)
      this.#windows.push({ window: { limit, windowMs }, index: -1, used: 0, log: [] });
    else state.window.limit = limit;
    this.#pump();
  }

  /** Cost counted in the current window of `windowMs` (venue clock), if there is one. */
  usedNow(windowMs: number): number | undefined {
    const state = this.#windows.find((s) => s.window.windowMs === windowMs);
    if (state === undefined) return undefined;
    const nowMs = this.venueNowMs();
    this.#roll(state, nowMs);
    return this.#mode === 'aligned' ? state.used : state.log.reduce((sum, [, c]) => sum + c, 0);
  }

  /** The current limit of the window of `windowMs`, if there is one. */
  limitOf(windowMs: number): number | undefined {
    return this.#windows.find((s) => s.window.windowMs === windowMs)?.window.limit;
  }

  /**
   * What the venue says this IP has used in its current window of `windowMs` (Binance
   * `X-MBX-USED-WEIGHT-1M`). Raises our count when it is higher (another program on the IP, a
   * request the venue counted that we did not); never lowers it (answers arrive out of order).
   */
  observeUsed(windowMs: number, used: number): void {
    if (!Number.isFinite(used) || used < 0) return;
    const state = this.#windows.find((s) => s.window.windowMs === windowMs);
    if (state === undefined) return;
    const nowMs = this.venueNowMs();
    this.#roll(state, nowMs);
    if (this.#mode === 'aligned') {
      if (used > state.used) state.used = used;
    } else {
      const ours = state.log.reduce((sum, [, c]) => sum + c, 0);
      if (used > ours) state.log.push([nowMs, used - ours]);
    }
  }

  /** The venue's own time read from a response (e.g. Binance `serverTime`): aligns windows. */
  noteServerTime(serverMs: number): void {
    if (!Number.isFinite(serverMs)) return;
    const offsetMs = serverMs - this.#clock.now();
    const shiftMs = offsetMs - this.#offsetMs;
    this.#offsetMs = offsetMs;
    // Rolling logs hold venue times: move them with the clock so each reservation keeps its
    // age (else a clock learned years behind ours leaves them in the future, never expiring).
    if (this.#mode === 'rolling' && shiftMs !== 0) {
      for (const state of this.#windows) for (const entry of state.log) entry[0] += shiftMs;
    }
  }

  /**
   * Send nothing for `ms` local milliseconds: a 429's `Retry-After` (`rate-limited`) or a 418
   * ban (`banned`). A longer pause already in force is kept.
   */
  pause(ms: number, reason: 'rate-limited' | 'banned'): void {
    if (reason === 'banned') this.stats.banned += 1;
    else this.stats.rateLimited += 1;
    if (this.#observers !== undefined) for (const o of this.#observers) o.paused(reason, ms);
    const until = performance.now() + Math.max(0, ms);
    if (until > this.#pausedUntil) {
      this.#pausedUntil = until;
      this.#pauseReason = reason;
    }
    this.#pump();
  }

  /**
   * Space grants `spacingMs` local ms apart for the next `forMs` local ms, then full speed
   * again: for a venue whose 429 gives no `Retry-After` and whose limit is unknown (Polygon's
   * depends on the plan). A later call starts a new span. See {@link Pacer}.
   */
  pace(spacingMs: number, forMs: number): void {
    this.#pacer.pace(spacingMs, forMs, performance.now());
    this.#pump();
  }

  /** Local ms between grants now (0 = not paced). */
  pacingMs(): number {
    return this.#pacer.spacingMs(performance.now());
  }

  #roll(state: WindowState, nowMs: number): void {
    const windowMs = state.window.windowMs;
    if (this.#mode === 'aligned') {
      const index = Math.floor(nowMs / windowMs);
      if (index !== state.index) {
        state.index = index;
        state.used = 0;
      }
      return;
    }
    const horizon = nowMs - windowMs;
    let stale = 0;
    while (stale < state.log.length && (state.log[stale] as [number, number])[0] <= horizon)
      stale++;
    if (stale > 0) state.log.splice(0, stale);
  }

  /** Venue ms until `cost` fits `state` (0 = now). */
  #waitFor(state: WindowState, cost: number, nowMs: number): number {
    this.#roll(state, nowMs);
    const usable = state.window.limit * this.#headroom;
    const windowMs = state.window.windowMs;
    if (this.#mode === 'aligned') {
      // An oversized request goes alone into an empty window.
      if (state.used + cost <= usable || state.used === 0) return 0;
      return (state.index + 1) * windowMs - nowMs;
    }
    let used = 0;
    for (const [, c] of state.log) used += c;
    if (used + cost <= usable || used === 0) return 0;
    // Free entries from the oldest until the cost fits.
    for (const [atMs, c] of state.log) {
      used -= c;
      if (used + cost <= usable) return atMs + windowMs - nowMs + 1;
    }
    return windowMs;
  }

  #reserve(cost: number, nowMs: number): void {
    for (const state of this.#windows) {
      if (this.#mode === 'aligned') state.used += cost;
      else state.log.push([nowMs, cost]);
    }
  }

  /** Grant what fits, in order; arm one timer for the earliest moment the head could fit. */
  #pump(): void {
    while (this.#waiters.length > 0) {
      const pausedMs = this.#pausedUntil - performance.now();
      if (pausedMs > 0) {
        this.#arm(pausedMs);
        return;
      }
      if (this.#inFlight >= this.concurrency) {
        this.#disarm();
        return;
      }
      const pacedMs = this.#pacer.waitMs(performance.now());
      if (pacedMs > 0) {
        this.#arm(pacedMs);
        return;
      }
      const head = this.#waiters[0] as Waiter;
      const nowMs = this.venueNowMs();
      let waitVenueMs = 0;
      for (const state of this.#windows) {
        waitVenueMs = Math.max(waitVenueMs, this.#waitFor(state, head.cost, nowMs));
      }
      if (waitVenueMs > 0) {
        this.#arm(Math.max(1, this.#clock.realMsFor(waitVenueMs)));
        return;
      }
      this.#waiters.shift();
      if (head.onAbort !== undefined) head.signal?.removeEventListener('abort', head.onAbort);
      this.#reserve(head.cost, nowMs);
      this.#pacer.started(performance.now());
      this.#averageCost =
        this.stats.granted === 0
          ? Math.max(1e-9, head.cost)
          : this.#averageCost + (head.cost - this.#averageCost) * LATENCY_ALPHA;
      this.#inFlight += 1;
      this.stats.granted += 1;
      this.stats.reservedCost += head.cost;
      this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.#inFlight);
      if (this.#observers !== undefined) for (const o of this.#observers) o.granted(head.cost);
      head.resolve(this.#permit());
    }
    this.#disarm();
  }

  #permit(): RestPermit {
    let released = false;
    return {
      release: (latencyMs?: number) => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        if (latencyMs !== undefined && Number.isFinite(latencyMs) && latencyMs >= 0) {
          this.#latencyMs =
            this.#latencyMs === undefined
              ? latencyMs
              : this.#latencyMs + (latencyMs - this.#latencyMs) * LATENCY_ALPHA;
        }
        this.#pump();
      },
    };
  }

  #arm(localMs: number): void {
    const at = performance.now() + localMs;
    if (this.#timer !== undefined && this.#timerAt <= at + 1) return;
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, Math.ceil(localMs));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }
}

const shared = new Map<string, RestScheduler>();

/**
 * The scheduler of one venue host (`api.binance.com`, `127.0.0.1:40123`), shared by every
 * stream, download and sync of this process, because the venue counts per IP. The first caller
 * creates it with `options`; later callers get the same one (their options are ignored, except
 * that their windows are added when the first caller did not have them). A test against the
 * simulator may create it first with the simulator's clock.
 */
export function sharedRestScheduler(host: string, options: RestSchedulerOptions): RestScheduler {
  let scheduler = shared.get(host);
  if (scheduler === undefined) {
    scheduler = new RestScheduler(options);
    shared.set(host, scheduler);
    return scheduler;
  }
  for (const window of options.windows) {
    if (scheduler.limitOf(window.windowMs) === undefined)
      scheduler.setLimit(window.windowMs, window.limit);
  }
  return scheduler;
}

/** The host key of a URL for {@link sharedRestScheduler}: `host[:port]`, lower case. */
export function schedulerHost(url: string | URL): string {
  return new URL(url).host.toLowerCase();
}
