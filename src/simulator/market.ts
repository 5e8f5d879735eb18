// Bars of any interval, aggregated exactly from the minute model, with day aggregates cached so
// that weeks and months are cheap. Serves Binance (UTC-aligned, a bar for every interval) and
// Polygon (New York days, no bar without trades).

import type { Interval, Timespan } from '../core/types.js';
import { barOpenMs, nextBarOpenMs } from './calendar.js';
import { binanceListing, polygonPrice } from './catalog.js';
import type { SimClock } from './clock.js';
import { stringHash } from './hash.js';
import {
  makeProfile,
  mergeInto,
  minuteBar,
  type Profile,
  type RawBar,
  secondBars,
} from './model.js';
import { nyDayStartMs, nyMonthStartMs, nyNextDayStartMs, nyWeekStartMs } from './ny-time.js';

/** One bar as numbers; each equals `Number()` of the string the venue sends for it. */
export interface SimBar {
  openTimeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Ground truth for tests: the exact bars the venues serve. */
export interface SimMarket {
  /**
   * Binance bars (closed, plus the still-open one) with open time in `[fromMs, toMs]` and not in
   * the future; the numbers REST and WebSocket serve.
   */
  binanceBars(symbol: string, interval: Interval, fromMs: number, toMs: number): SimBar[];
  /**
   * Polygon bars of `multiplier` × `timespan` starting in `[fromMs, toMs]`, as REST serves them:
   * built from the seconds complete now, so the bar still open (the current minute, hour, today)
   * is included with its values so far; minutes without trades are absent, and so are weekends,
   * NYSE holidays and hours outside 04:00–20:00 ET (PROTOCOLS.md §2.4).
   */
  polygonBars(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
  ): SimBar[];
}

/**
 * A venue outage: bars opening in `[from, to]` do not exist, on REST and WebSocket alike (Binance
 * makes no bar while it is down, PROTOCOLS.md §1.5). `venue`/`symbol` omitted = all.
 */
export interface SimOutage {
  venue?: 'binance' | 'polygon';
  symbol?: string;
  from: Date | number;
  to: Date | number;
}

/** Polygon bar sizes, including the two the library itself does not use. */
export type PolygonTimespan = Timespan | 'quarter' | 'year';

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const CACHE_LIMIT = 200_000;

/** The market model bound to one seed and clock; implements {@link SimMarket}. */
export class Market implements SimMarket {
  readonly #seed: number;
  readonly #clock: SimClock;
  readonly #outages: Array<{ venue?: string; key?: number; fromMs: number; toMs: number }> = [];
  readonly #profiles = new Map<string, Profile>();
  readonly #days = new Map<string, RawBar | null>();
  readonly #seconds = new Map<string, RawBar[]>();

  readonly #quietAfterHours: ReadonlySet<string>;

  constructor(
    seed: number,
    clock: SimClock,
    quietAfterHours: ReadonlySet<string> = new Set(),
    outages: readonly SimOutage[] = [],
  ) {
    this.#seed = seed;
    this.#clock = clock;
    this.#quietAfterHours = quietAfterHours;
    for (const outage of outages) {
      this.#outages.push({
        ...(outage.venue ? { venue: outage.venue } : {}),
        ...(outage.symbol && outage.venue
          ? { key: stringHash(`${outage.venue}:${outage.symbol}`) }
          : {}),
        fromMs: new Date(outage.from).getTime(),
        toMs: new Date(outage.to).getTime(),
      });
    }
  }

  /** True when a bar of `p` opening at `startMs` falls in an outage (the venue has no such bar). */
  #inOutage(p: Profile, startMs: number): boolean {
    for (const o of this.#outages) {
      if (startMs < o.fromMs || startMs > o.toMs) continue;
      if (o.venue !== undefined && o.venue !== p.venue) continue;
      if (o.key !== undefined && o.key !== p.key) continue;
      return true;
    }
    return false;
  }

  binanceProfile(symbol: string): Profile {
    return this.#profile('binance', symbol, () => binanceListing(symbol).price);
  }

  polygonProfile(ticker: string): Profile {
    const profile = this.#profile('polygon', ticker, () => polygonPrice(ticker));
    if (this.#quietAfterHours.has(ticker)) profile.quietOutsideRegular = true;
    return profile;
  }

  #profile(venue: 'binance' | 'polygon', symbol: string, price: () => number): Profile {
    const key = `${venue}:${symbol}`;
    let profile = this.#profiles.get(key);
    if (!profile) {
      profile = makeProfile(this.#seed, venue, symbol, price());
      this.#profiles.set(key, profile);
    }
    return profile;
  }

  /** Binance second cutoff: the current second counts, with its final values. */
  binanceCutoffMs(nowMs = this.#clock.now()): number {
    return Math.floor(nowMs / SECOND_MS) * SECOND_MS + SECOND_MS;
  }

  /** The Binance bar opening at `openMs` (partial if still open), or undefined if in the future. */
  binanceRaw(p: Profile, interval: Interval, openMs: number, nowMs: number): RawBar | undefined {
    if (openMs > nowMs) return undefined;
    const endMs = interval === '1s' ? openMs + SECOND_MS : nextBarOpenMs(interval, openMs);
    return this.aggregate(p, openMs, endMs, this.binanceCutoffMs(nowMs));
  }

  /** Binance bars with open time in [fromMs, toMs], oldest first, at most `limit`. */
  binanceRawRange(
    p: Profile,
    interval: Interval,
    fromMs: number,
    toMs: number,
    nowMs: number,
    limit = Number.POSITIVE_INFINITY,
  ): RawBar[] {
    const out: RawBar[] = [];
    let openMs = barOpenMs(interval, fromMs);
    if (openMs < fromMs) openMs = nextBarOpenMs(interval, openMs);
    const lastMs = Math.min(toMs, nowMs);
    while (openMs <= lastMs && out.length < limit) {
      const bar = this.binanceRaw(p, interval, openMs, nowMs);
      if (bar) out.push(bar);
      openMs = nextBarOpenMs(interval, openMs);
    }
    return out;
  }

  binanceBars(symbol: string, interval: Interval, fromMs: number, toMs: number): SimBar[] {
    const p = this.binanceProfile(symbol);
    const raws = this.binanceRawRange(p, interval, fromMs, toMs, this.#clock.now());
    return raws.map((raw) => toSimBar(p, raw));
  }

  /** Polygon bars starting in [fromMs, toMs]; `cutoffMs` defaults to the complete units now. */
  polygonRawRange(
    p: Profile,
    multiplier: number,
    timespan: PolygonTimespan,
    fromMs: number,
    toMs: number,
    cutoffMs = this.polygonCutoffMs(timespan),
  ): RawBar[] {
    const out: RawBar[] = [];
    let startMs = polygonBucketStartMs(multiplier, timespan, fromMs);
    while (startMs <= toMs && startMs < cutoffMs) {
      const endMs = polygonNextBucketMs(multiplier, timespan, startMs);
      if (startMs >= fromMs) {
        const bar = this.aggregate(p, startMs, endMs, cutoffMs);
        if (bar) out.push(bar);
      }
      startMs = endMs;
    }
    return out;
  }

  /**
   * Polygon builds bars from the trades up to now (complete seconds here), so the current minute,
   * hour and day are served while still open and keep changing until their window ends
   * (PROTOCOLS.md §2.4); only a client's check against the `Date` header keeps them out.
   */
  polygonCutoffMs(_timespan: PolygonTimespan, nowMs = this.#clock.now()): number {
    return Math.floor(nowMs / SECOND_MS) * SECOND_MS;
  }

  polygonBars(
    ticker: string,
    multiplier: number,
    timespan: Timespan,
    fromMs: number,
    toMs: number,
  ): SimBar[] {
    const p = this.polygonProfile(ticker);
    return this.polygonRawRange(p, multiplier, timespan, fromMs, toMs).map((raw) =>
      toSimBar(p, raw),
    );
  }

  /** Polygon minutes with trades starting in [fromMs, toMs) (the "base aggregates"). */
  polygonMinuteCount(p: Profile, fromMs: number, toMs: number): number {
    let count = 0;
    for (let t = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS; t < toMs; t += MINUTE_MS) {
      if (minuteBar(p, t)) count++;
    }
    return count;
  }

  /** Aggregate of every unit in [startMs, endMs) that starts before `cutoffMs` (second-aligned). */
  aggregate(p: Profile, startMs: number, endMs: number, cutoffMs: number): RawBar | undefined {
    if (this.#outages.length > 0 && this.#inOutage(p, startMs)) return undefined;
    let acc: RawBar | undefined;
    const stopMs = Math.min(endMs, cutoffMs);
    let t = startMs;
    while (t < stopMs) {
      const dayEndMs = this.#dayEndIfDayStart(p, t);
      if (dayEndMs !== undefined && dayEndMs <= stopMs) {
        const day = this.#day(p, t, dayEndMs);
        if (day) acc = mergeInto(acc, day);
        t = dayEndMs;
      } else if (t % MINUTE_MS === 0 && t + MINUTE_MS <= stopMs) {
        const minute = minuteBar(p, t);
        if (minute) acc = mergeInto(acc, minute);
        t += MINUTE_MS;
      } else {
        const minuteMs = Math.floor(t / MINUTE_MS) * MINUTE_MS;
        const minute = minuteBar(p, minuteMs);
        const untilMs = Math.min(minuteMs + MINUTE_MS, stopMs);
        if (minute) {
          for (const second of this.secondsOf(p, minute)) {
            if (second.openMs >= t && second.openMs < untilMs) acc = mergeInto(acc, second);
          }
        }
        t = untilMs;
      }
    }
    if (acc) acc.openMs = startMs;
    return acc;
  }

  /** The 1-second bars of `minute` (cached). */
  secondsOf(p: Profile, minute: RawBar): RawBar[] {
    const key = `${p.venue}:${p.key}:${minute.openMs}`;
    let seconds = this.#seconds.get(key);
    if (!seconds) {
      seconds = secondBars(p, minute);
      if (this.#seconds.size > 10_000) this.#seconds.clear();
      this.#seconds.set(key, seconds);
    }
    return seconds;
  }

  #dayEndIfDayStart(p: Profile, t: number): number | undefined {
    if (p.venue === 'binance') return t % DAY_MS === 0 ? t + DAY_MS : undefined;
    if (t % HOUR_MS !== 0 || nyDayStartMs(t) !== t) return undefined;
    return nyNextDayStartMs(t);
  }

  #day(p: Profile, startMs: number, endMs: number): RawBar | undefined {
    const key = `${p.venue}:${p.key}:${startMs}`;
    const cached = this.#days.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let acc: RawBar | undefined;
    for (let t = startMs; t < endMs; t += MINUTE_MS) {
      const minute = minuteBar(p, t);
      if (minute) acc = mergeInto(acc, minute);
    }
    if (acc) acc.openMs = startMs;
    if (this.#days.size > CACHE_LIMIT) this.#days.clear();
    this.#days.set(key, acc ?? null);
    return acc;
  }
}

/** Start of the Polygon bar containing `timeMs` (minutes/hours UTC, days and longer New York). */
export function polygonBucketStartMs(
  multiplier: number,
  timespan: PolygonTimespan,
  timeMs: number,
): number {
  const fixed = { second: SECOND_MS, minute: MINUTE_MS, hour: HOUR_MS }[timespan as string];
  if (fixed !== undefined) return Math.floor(timeMs / (fixed * multiplier)) * fixed * multiplier;
  if (timespan === 'day') return nyDayStartMs(timeMs);
  if (timespan === 'week') return nyWeekStartMs(timeMs);
  const monthStartMs = nyMonthStartMs(timeMs);
  if (timespan === 'month') return monthStartMs;
  // Quarters start in January, April, July, October; years in January.
  const month = new Date(monthStartMs + 12 * HOUR_MS).getUTCMonth();
  const back = timespan === 'quarter' ? month % 3 : month;
  return nyMonthStartMs(monthStartMs + HOUR_MS, -back);
}

/** Start of the Polygon bar after the one starting at `startMs`. */
export function polygonNextBucketMs(
  multiplier: number,
  timespan: PolygonTimespan,
  startMs: number,
): number {
  const fixed = { second: SECOND_MS, minute: MINUTE_MS, hour: HOUR_MS }[timespan as string];
  if (fixed !== undefined) return startMs + fixed * multiplier;
  if (timespan === 'day' || timespan === 'week') {
    const days = (timespan === 'week' ? 7 : 1) * multiplier;
    // Step day by day: New York days are 23 to 25 hours long.
    let t = startMs;
    for (let i = 0; i < days; i++) t = nyNextDayStartMs(t + HOUR_MS);
    return t;
  }
  const months = (timespan === 'quarter' ? 3 : timespan === 'year' ? 12 : 1) * multiplier;
  return nyMonthStartMs(startMs + HOUR_MS, months);
}

/** Converts integer ticks and lots to the numbers the venues send. */
export function toSimBar(p: Profile, raw: RawBar): SimBar {
  return {
    openTimeMs: raw.openMs,
    open: raw.o / p.ticksPerUnit,
    high: raw.h / p.ticksPerUnit,
    low: raw.l / p.ticksPerUnit,
    close: raw.c / p.ticksPerUnit,
    volume: raw.v / p.lotsPerUnit,
  };
}
