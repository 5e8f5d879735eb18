import type { Interval, MarketData } from '../../core/types.js';
import type { BackfillPhase, StreamAdapter } from '../../stream/adapter.js';
import { type BucketKeys, polygonBucketKeys } from './ny-calendar.js';
import { MINUTE_MS } from './protocol.js';

interface OpenBucket {
  startMs: number;
  endMs: number;
  lastMinuteMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** An open bucket as the closer sees it. */
export interface OpenBucketKey {
  symbol: string;
  startMs: number;
  endMs: number;
}

/**
 * Builds bars of `interval` (≥ 1m) from a per-symbol, time-ordered stream of minute bars, in
 * Polygon's buckets ({@link polygonBucketKeys}): first open, last close, max high, min low, summed
 * volume. Minutes without trades simply do not contribute. A bucket is emitted once it is known
 * to be over: its last minute arrives, a minute of a later bucket arrives for that symbol,
 * {@link flushBefore} says every minute before a time has been seen, or {@link closeFromRest}
 * replaces it with the venue's minutes once the venue's clock is past its end.
 */
export class MinuteAggregator {
  readonly #keys: BucketKeys;
  readonly #buckets = new Map<string, OpenBucket>();
  /** End of the last bucket emitted (or given up) per symbol: nothing before it is taken again. */
  readonly #closedUntilMs = new Map<string, number>();

  constructor(interval: Interval) {
    this.#keys = polygonBucketKeys(interval);
  }

  /**
   * Adds one minute bar (`time` = minute open). Returns the bucket it completed, if any. A minute
   * at or before the last one added for its symbol is a repeat and is ignored.
   */
  add(minute: MarketData): MarketData | undefined {
    const minuteMs = minute.time.getTime();
    const current = this.#buckets.get(minute.symbol);
    if (current && minuteMs <= current.lastMinuteMs) return undefined;
    // A minute of a bucket already emitted (a late or corrected AM after a watermark flush):
    // taking it would emit that bucket's time a second time.
    const closedUntilMs = this.#closedUntilMs.get(minute.symbol);
    if (closedUntilMs !== undefined && minuteMs < closedUntilMs) return undefined;
    if (current && minuteMs < current.endMs) {
      current.lastMinuteMs = minuteMs;
      if (minute.high > current.high) current.high = minute.high;
      if (minute.low < current.low) current.low = minute.low;
      current.close = minute.close;
      current.volume += minute.volume;
      return this.#closeIfLast(minute.symbol, current);
    }
    const startMs = this.#keys.start(minuteMs);
    const opened: OpenBucket = {
      startMs,
      endMs: this.#keys.next(startMs),
      lastMinuteMs: minuteMs,
      open: minute.open,
      high: minute.high,
      low: minute.low,
      close: minute.close,
      volume: minute.volume,
    };
    this.#buckets.set(minute.symbol, opened);
    if (current) {
      // The later minute proves the old bucket over; the new one cannot be complete as well
      // unless it is one minute long, which local aggregation never builds.
      this.#closedUntilMs.set(minute.symbol, current.endMs);
      return toBar(minute.symbol, current);
    }
    return this.#closeIfLast(minute.symbol, opened);
  }

  /** A bucket whose last minute is in is complete: nothing later can add to it. */
  #closeIfLast(symbol: string, bucket: OpenBucket): MarketData | undefined {
    if (bucket.lastMinuteMs + MINUTE_MS < bucket.endMs) return undefined;
    this.#buckets.delete(symbol);
    this.#closedUntilMs.set(symbol, bucket.endMs);
    return toBar(symbol, bucket);
  }

  /** The symbol's open (forming) bucket as a bar, if it has one. */
  forming(symbol: string): MarketData | undefined {
    const bucket = this.#buckets.get(symbol);
    return bucket === undefined ? undefined : toBar(symbol, bucket);
  }

  /** Every open bucket. */
  *open(): IterableIterator<OpenBucketKey> {
    for (const [symbol, bucket] of this.#buckets) {
      yield { symbol, startMs: bucket.startMs, endMs: bucket.endMs };
    }
  }

  /**
   * The venue's clock is past the end of `symbol`'s bucket at `startMs`: emit it from the
   * venue's own `minutes` of it (REST; they include any whose live event is still on the way),
   * or from what arrived live when REST had none. Undefined when that bucket is no longer open
   * (a live minute closed it meanwhile).
   */
  closeFromRest(
    symbol: string,
    startMs: number,
    minutes: readonly MarketData[],
  ): MarketData | undefined {
    const bucket = this.#buckets.get(symbol);
    if (bucket === undefined || bucket.startMs !== startMs) return undefined;
    let rebuilt: OpenBucket | undefined;
    for (const minute of minutes) {
      const t = minute.time.getTime();
      if (t < bucket.startMs || t >= bucket.endMs) continue;
      if (rebuilt === undefined) {
        const { open, high, low, close, volume } = minute;
        rebuilt = { ...bucket, lastMinuteMs: t, open, high, low, close, volume };
        continue;
      }
      rebuilt.lastMinuteMs = t;
      if (minute.high > rebuilt.high) rebuilt.high = minute.high;
      if (minute.low < rebuilt.low) rebuilt.low = minute.low;
      rebuilt.close = minute.close;
      rebuilt.volume += minute.volume;
    }
    this.#buckets.delete(symbol);
    this.#closedUntilMs.set(symbol, bucket.endMs);
    return toBar(symbol, rebuilt ?? bucket);
  }

  /**
   * Emits (and forgets) every open bucket that ends at or before `watermarkMs`: the caller knows
   * no minute bar older than that can still arrive. With `eligible`, only the symbols it accepts
   * (e.g. not those whose minutes are still coming from a REST backfill).
   */
  flushBefore(watermarkMs: number, eligible?: (symbol: string) => boolean): MarketData[] {
    const done: MarketData[] = [];
    for (const [symbol, bucket] of this.#buckets) {
      if (bucket.endMs <= watermarkMs && (eligible === undefined || eligible(symbol))) {
        done.push(toBar(symbol, bucket));
        this.#buckets.delete(symbol);
        this.#closedUntilMs.set(symbol, bucket.endMs);
      }
    }
    return done;
  }

  /** Drops a symbol's open bucket (e.g. before its minutes are replayed from REST). */
  discard(symbol: string): void {
    this.#buckets.delete(symbol);
  }

  /**
   * Never emits the bucket containing `timeMs` for `symbol` (its minutes are known to be
   * incomplete, e.g. the REST seed of a stream's first bucket failed).
   */
  giveUpBucket(symbol: string, timeMs: number): void {
    this.#buckets.delete(symbol);
    this.#closedUntilMs.set(symbol, this.#keys.next(timeMs));
  }
}

function toBar(symbol: string, bucket: OpenBucket): MarketData {
  return {
    id: '',
    symbol,
    time: new Date(bucket.startMs),
    open: bucket.open,
    high: bucket.high,
    low: bucket.low,
    close: bucket.close,
    volume: bucket.volume,
  };
}

/** Our choice: a quiet symbol's bucket waits one extra minute of other symbols' exchange time. */
export const CROSS_SYMBOL_GRACE_MS = 60_000;

/**
 * Turns the engine's minute stream into bars of a larger interval, and decides when exchange time
 * shows a quiet symbol's bucket is over.
 *
 * The engine delivers each symbol's minutes gap-free and in order, including those a REST
 * backfill recovers after a reconnect; but different symbols' backfills run side by side, so one
 * symbol's minutes can come out well ahead of another's. A minute of symbol A therefore proves
 * nothing about symbol B while B's backfill is under way: between the engine's `started` and
 * `done` marks for B (which arrive in the consumer's order), B's buckets are closed only by B's
 * own minutes.
 */
export class AggregationFlow {
  readonly #aggregator: MinuteAggregator;
  readonly #lastMinuteMs = new Map<string, number>();
  /** Symbols whose backfill has started but not yet come out of the engine completely. */
  readonly #catchingUp = new Set<string>();
  #watermarkMs = Number.NEGATIVE_INFINITY;
  /** A symbol caught up: its buckets may be over by the current watermark already. */
  #recheck = false;
  readonly #eligible = (symbol: string): boolean => !this.#catchingUp.has(symbol);

  constructor(interval: Interval) {
    this.#aggregator = new MinuteAggregator(interval);
  }

  /** The venue's clock is at least this: the end of the newest minute seen. */
  get venueSeenMs(): number {
    return this.#watermarkMs + MINUTE_MS;
  }

  /** The symbol's forming bar (its open bucket), for `setOnFormingBar`. */
  forming(symbol: string): MarketData | undefined {
    return this.#aggregator.forming(symbol);
  }

  /**
   * Open buckets that end by `venueMs` and may be closed by the venue's clock: not those of a
   * symbol whose backfill is still coming out (its minutes are on the way).
   */
  dueBy(venueMs: number): OpenBucketKey[] {
    const due: OpenBucketKey[] = [];
    for (const bucket of this.#aggregator.open()) {
      if (bucket.endMs <= venueMs && this.#eligible(bucket.symbol)) due.push(bucket);
    }
    return due;
  }

  /** The earliest end of an open bucket that {@link dueBy} would consider, if any. */
  nextEndMs(): number | undefined {
    let earliest: number | undefined;
    for (const bucket of this.#aggregator.open()) {
      if (!this.#eligible(bucket.symbol)) continue;
      if (earliest === undefined || bucket.endMs < earliest) earliest = bucket.endMs;
    }
    return earliest;
  }

  /** See {@link MinuteAggregator.closeFromRest}. */
  closeFromRest(
    symbol: string,
    startMs: number,
    minutes: readonly MarketData[],
  ): MarketData | undefined {
    return this.#aggregator.closeFromRest(symbol, startMs, minutes);
  }

  /** True before the first minute: the caller may seed the first buckets from REST. */
  get started(): boolean {
    return this.#lastMinuteMs.size > 0;
  }

  /** Adds minutes that precede the live stream (the REST seed of a first bucket). */
  seed(minutes: readonly MarketData[]): void {
    for (const minute of minutes) this.#aggregator.add(minute);
  }

  /** See {@link MinuteAggregator.giveUpBucket}. */
  giveUpBucket(symbol: string, timeMs: number): void {
    this.#aggregator.giveUpBucket(symbol, timeMs);
  }

  /** One minute as it comes out of the engine; returns the bars it completes, oldest first. */
  onMinute(minute: MarketData): MarketData[] {
    const symbol = minute.symbol;
    const minuteMs = minute.time.getTime();
    const done: MarketData[] = [];
    const own = this.#aggregator.add(minute);
    if (own) done.push(own);
    this.#lastMinuteMs.set(symbol, minuteMs);
    if (minuteMs > this.#watermarkMs || this.#recheck) {
      if (minuteMs > this.#watermarkMs) this.#watermarkMs = minuteMs;
      this.#recheck = false;
      const flushed = this.#aggregator.flushBefore(
        this.#watermarkMs - CROSS_SYMBOL_GRACE_MS,
        this.#eligible,
      );
      if (flushed.length > 1) flushed.sort((a, b) => a.time.getTime() - b.time.getTime());
      for (const bar of flushed) done.push(bar);
    }
    return done;
  }

  /**
   * The engine's backfill marks for `symbol`, in the consumer's order
   * ({@link StreamAdapter.onBackfill}).
   */
  onBackfill(symbol: string, phase: BackfillPhase): void {
    if (phase === 'started') {
      this.#catchingUp.add(symbol);
    } else if (this.#catchingUp.delete(symbol)) {
      this.#recheck = true;
    }
  }
}
