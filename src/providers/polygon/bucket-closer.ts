// Closing a local aggregation's buckets on time by the venue's clock (DESIGN §3): a quiet
// symbol's last bucket must not wait for a later minute that may come only the next morning.

import { toMarketDataError } from '../../core/errors.js';
import type { MarketData } from '../../core/types.js';
import type { AggregationFlow, OpenBucketKey } from './minute-aggregator.js';
import { MINUTE_MS } from './protocol.js';
import type { PolygonRest } from './rest.js';

/**
 * Our choice: a bucket is closed by the clock this long after its end (venue time). Its minutes
 * then come from REST, which has the last one even when its `AM` event is still on the way.
 */
export const BUCKET_CLOSE_GRACE_MS = 5000;
/** Our choice: bounds on the local wait before asking the venue's clock again. */
const MIN_ASK_DELAY_MS = 20;
const MAX_ASK_DELAY_MS = 15 * 60_000;
/** Our choice: "not yet" answers in a row before the asks back off. */
const FREE_MISSES = 5;
/**
 * Our choice: readings this far apart (local time) give the venue clock's rate; `Date` has whole
 * seconds, so closer ones would be too coarse. Until then the venue is asked after this long.
 */
const MIN_RATE_SPAN_MS = 2000;

/**
 * The venue's clock as seen from here: readings of exchange time (window ends of `AM` events,
 * REST `Date` headers) against the local monotonic clock, and the rate between them. The rate
 * is 1 at a real venue; a simulator may run hundreds of times faster, so local elapsed time is
 * only used to decide *when to ask*, never to decide that a bucket is over.
 */
export class VenueClock {
  #first: { venueMs: number; localMs: number } | undefined;
  #last: { venueMs: number; localMs: number } | undefined;

  /** The venue's clock read `venueMs` at local `localMs` (or later: readings only move on). */
  observe(venueMs: number, localMs = performance.now()): void {
    if (!Number.isFinite(venueMs)) return;
    if (this.#last !== undefined && venueMs <= this.#last.venueMs) return;
    this.#last = { venueMs, localMs };
    this.#first ??= this.#last;
  }

  /** Venue ms per local ms (at least 1), or undefined before readings span enough time. */
  rate(): number | undefined {
    const first = this.#first;
    const last = this.#last;
    if (first === undefined || last === undefined) return undefined;
    const spanMs = last.localMs - first.localMs;
    if (spanMs < MIN_RATE_SPAN_MS) return undefined;
    return Math.max(1, (last.venueMs - first.venueMs) / spanMs);
  }

  /**
   * Local ms until the venue's clock is estimated to read `venueMs`; until the rate is known,
   * the time after which another reading will tell it.
   */
  localDelayUntil(venueMs: number, localMs = performance.now()): number {
    const last = this.#last;
    const rate = this.rate();
    if (last === undefined || rate === undefined) return MIN_RATE_SPAN_MS;
    const estimateMs = last.venueMs + (localMs - last.localMs) * rate;
    return (venueMs - estimateMs) / rate;
  }
}

/** What an ask produced: buckets the venue's clock has closed, with their REST minutes. */
export interface ClosedByClock {
  closes: { symbol: string; startMs: number; minutes: MarketData[] }[];
  errors: ReturnType<typeof toMarketDataError>[];
}

/**
 * Watches a flow's open buckets: when the earliest is due by the estimated venue clock, asks the
 * venue for that bucket's minutes (REST, whose `Date` header is the venue's clock) and hands the
 * closes to the stream's loop, which applies them between the items it yields. Nothing here
 * decides a bucket is over from the local clock alone.
 */
export class BucketCloser {
  readonly #flow: AggregationFlow;
  readonly #rest: PolygonRest;
  readonly #signal: AbortSignal;
  readonly #clock = new VenueClock();
  #timer: NodeJS.Timeout | undefined;
  #asking = false;
  #misses = 0;
  #ready: ClosedByClock | undefined;
  #wake: (() => void) | undefined;

  constructor(flow: AggregationFlow, rest: PolygonRest, signal: AbortSignal) {
    this.#flow = flow;
    this.#rest = rest;
    this.#signal = signal;
  }

  /** A reading of the venue's clock from the feed (the end of a minute just received). */
  observe(venueMs: number): void {
    this.#clock.observe(venueMs);
  }

  /** (Re)plans the next ask for the earliest open bucket; call after each item is handled. */
  arm(): void {
    if (this.#asking || this.#ready !== undefined || this.#signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const endMs = this.#flow.nextEndMs();
    if (endMs === undefined) return;
    // Each "not yet" corrects the estimate; only a run of them (a rate estimate still off)
    // spaces the asks out.
    const backoff = Math.max(0, this.#misses - FREE_MISSES);
    const floorMs = Math.min(MAX_ASK_DELAY_MS, MIN_ASK_DELAY_MS * 2 ** backoff);
    const delayMs = Math.min(
      MAX_ASK_DELAY_MS,
      Math.max(floorMs, this.#clock.localDelayUntil(endMs + BUCKET_CLOSE_GRACE_MS)),
    );
    this.#timer = setTimeout(() => void this.#ask(), delayMs);
  }

  /** Resolves with the closes of an ask once there are some; see {@link arm}. */
  next(): Promise<ClosedByClock> {
    return new Promise<ClosedByClock>((resolve) => {
      const deliver = (): void => {
        const ready = this.#ready as ClosedByClock;
        this.#ready = undefined;
        resolve(ready);
      };
      if (this.#ready !== undefined) deliver();
      else this.#wake = deliver;
    });
  }

  /** Stops the timer (an ask in flight ends with the stream's signal). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake = undefined;
  }

  async #ask(): Promise<void> {
    this.#timer = undefined;
    this.#asking = true;
    const result: ClosedByClock = { closes: [], errors: [] };
    try {
      const due = this.#flow.dueBy(Number.POSITIVE_INFINITY).sort((a, b) => a.endMs - b.endMs);
      for (const bucket of due) {
        const closed = await this.#askOne(bucket);
        if (closed === undefined) break; // not over yet by the venue's clock: later ones neither
        result.closes.push(closed);
      }
    } catch (error) {
      if (this.#signal.aborted) return;
      result.errors.push(
        toMarketDataError(error, 'NETWORK', 'could not read the venue clock to close a bar'),
      );
    } finally {
      this.#asking = false;
    }
    if (this.#signal.aborted) return;
    this.#misses = result.closes.length > 0 ? 0 : this.#misses + 1;
    if (result.closes.length === 0 && result.errors.length === 0) {
      this.arm();
      return;
    }
    this.#ready = result;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #askOne(
    bucket: OpenBucketKey,
  ): Promise<{ symbol: string; startMs: number; minutes: MarketData[] } | undefined> {
    const { bars, venueNowMs } = await this.#rest.closedBars(
      bucket.symbol,
      1,
      'minute',
      bucket.startMs,
      bucket.endMs - 1,
      MINUTE_MS,
      this.#signal,
    );
    this.#clock.observe(venueNowMs);
    if (venueNowMs < bucket.endMs + BUCKET_CLOSE_GRACE_MS) return undefined;
    return { symbol: bucket.symbol, startMs: bucket.startMs, minutes: bars };
  }
}
