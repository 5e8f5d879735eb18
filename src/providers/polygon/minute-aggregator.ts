import { bucketStartMs, nextBucketStartMs } from '../../core/intervals.js';
import type { Interval, MarketData } from '../../core/types.js';

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

/**
 * Builds bars of `interval` (≥ 1m) from a per-symbol, time-ordered stream of minute bars, in UTC
 * buckets: first open, last close, max high, min low, summed volume. Minutes without trades simply
 * do not contribute. A bucket is emitted once it is known to be over: a minute of a later bucket
 * arrives for that symbol, or {@link flushBefore} says every minute before a time has been seen.
 */
export class MinuteAggregator {
  readonly #interval: Interval;
  readonly #buckets = new Map<string, OpenBucket>();

  constructor(interval: Interval) {
    this.#interval = interval;
  }

  /**
   * Adds one minute bar (`time` = minute open). Returns the bucket it completed, if any. A minute
   * at or before the last one added for its symbol is a repeat and is ignored.
   */
  add(minute: MarketData): MarketData | undefined {
    const minuteMs = minute.time.getTime();
    const current = this.#buckets.get(minute.symbol);
    if (current && minuteMs <= current.lastMinuteMs) return undefined;
    if (current && minuteMs < current.endMs) {
      current.lastMinuteMs = minuteMs;
      if (minute.high > current.high) current.high = minute.high;
      if (minute.low < current.low) current.low = minute.low;
      current.close = minute.close;
      current.volume += minute.volume;
      return undefined;
    }
    const startMs = bucketStartMs(this.#interval, minuteMs);
    this.#buckets.set(minute.symbol, {
      startMs,
      endMs: nextBucketStartMs(this.#interval, startMs),
      lastMinuteMs: minuteMs,
      open: minute.open,
      high: minute.high,
      low: minute.low,
      close: minute.close,
      volume: minute.volume,
    });
    return current ? toBar(minute.symbol, current) : undefined;
  }

  /**
   * Emits (and forgets) every open bucket that ends at or before `watermarkMs`: the caller knows
   * no minute bar older than that can still arrive.
   */
  flushBefore(watermarkMs: number): MarketData[] {
    const done: MarketData[] = [];
    for (const [symbol, bucket] of this.#buckets) {
      if (bucket.endMs <= watermarkMs) {
        done.push(toBar(symbol, bucket));
        this.#buckets.delete(symbol);
      }
    }
    return done;
  }

  /** Drops a symbol's open bucket (e.g. before its minutes are replayed from REST). */
  discard(symbol: string): void {
    this.#buckets.delete(symbol);
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
