// The market model: one minute of one symbol as a pure function of (seed, symbol, minute), plus
// the seconds inside it, built so that they aggregate exactly to the minute. Prices are integer
// ticks and volumes integer lots, so every aggregate (sums included) is exact.

import { hash4, stringHash, unit, valueNoise } from './hash.js';
import { session as polygonSession, type Session } from './trading-calendar.js';

/** A bar in integer units: `o/h/l/c` in ticks, `v`/`tb` (taker-buy volume) in lots. */
export interface RawBar {
  openMs: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  tb: number;
  n: number;
}

/** Everything the model needs to know about one symbol of one venue. */
export interface Profile {
  seed: number;
  key: number;
  venue: 'binance' | 'polygon';
  /** Ticks per price unit (10^decimals). */
  ticksPerUnit: number;
  decimals: number;
  /** Lots per volume unit: Binance 256 (a power of two keeps 8-decimal strings exact), Polygon 1. */
  lotsPerUnit: number;
  baseLog: number;
  meanLots: number;
  /** Polygon: no trades outside the regular session (a quiet ticker after hours). */
  quietOutsideRegular?: boolean;
}

const MINUTE_MS = 60_000;
const CH_FLAT = 11;
const CH_WICK_HI = 12;
const CH_WICK_LO = 13;
const CH_VOLUME = 14;
const CH_TAKER = 15;
const CH_TRADES = 16;
const CH_PRESENT = 17;
const CH_ACTIVE = 18;
const CH_PATH = 19;
const CH_SECOND_WEIGHT = 20;
const CH_SECOND_WICK = 21;

/** Log-price noise: (period in minutes, amplitude) per scale; about 0.1 %/min, a few %/day. */
const SCALES: ReadonlyArray<readonly [number, number]> = [
  [1, 0.0006],
  [5, 0.0012],
  [30, 0.003],
  [240, 0.008],
  [1440, 0.02],
  [10080, 0.05],
  [43200, 0.12],
  [262800, 0.25],
];

/** Binance: a minute with no trades (flat bar, volume 0) is rare but happens (PROTOCOLS.md §1.5). */
const FLAT_MINUTE_PROBABILITY = 0.004;

/** Builds the profile of `symbol` around a plausible `basePrice`. */
export function makeProfile(
  seed: number,
  venue: 'binance' | 'polygon',
  symbol: string,
  basePrice: number,
): Profile {
  const magnitude = Math.floor(Math.log10(basePrice));
  const decimals =
    venue === 'polygon' ? (basePrice < 1 ? 4 : 2) : Math.min(8, Math.max(2, 6 - magnitude));
  const lotsPerUnit = venue === 'binance' ? 256 : 1;
  const meanUnits = venue === 'binance' ? Math.min(2e6, 300_000 / basePrice) : 20_000;
  return {
    seed,
    key: stringHash(`${venue}:${symbol}`),
    venue,
    ticksPerUnit: 10 ** decimals,
    decimals,
    lotsPerUnit,
    baseLog: Math.log(basePrice),
    meanLots: Math.max(120, Math.round(meanUnits * lotsPerUnit)),
  };
}

function modelTicks(p: Profile, minute: number): number {
  let logPrice = p.baseLog;
  for (let k = 0; k < SCALES.length; k++) {
    const scale = SCALES[k] as readonly [number, number];
    logPrice += scale[1] * valueNoise(p.seed, p.key, k, minute / scale[0]);
  }
  return Math.max(1, Math.round(Math.exp(logPrice) * p.ticksPerUnit));
}

function isFlatRaw(p: Profile, minute: number): boolean {
  return p.venue === 'binance' && unit(p.seed, p.key, CH_FLAT, minute) < FLAT_MINUTE_PROBABILITY;
}

function isFlat(p: Profile, minute: number): boolean {
  // Never two flat minutes in a row, so closeTicks() recurses at most once.
  return isFlatRaw(p, minute) && !isFlatRaw(p, minute - 1);
}

function closeTicks(p: Profile, minute: number): number {
  return modelTicks(p, isFlat(p, minute) ? minute - 1 : minute);
}

/** Polygon: share of minutes with trades, and active seconds and volume per such minute. */
const SESSION_SHAPE: Record<Session, { present: number; maxSeconds: number; volume: number }> = {
  regular: { present: 0.97, maxSeconds: 60, volume: 1 },
  extended: { present: 0.35, maxSeconds: 8, volume: 0.04 },
  // PROTOCOLS.md §2.4: no bars outside 04:00–20:00 ET, on weekends or on NYSE holidays.
  closed: { present: 0, maxSeconds: 1, volume: 0 },
};

/** Number of seconds with trades in a minute (Binance: all 60; Polygon: by session). */
function activeSecondCount(p: Profile, minute: number, session: Session | undefined): number {
  if (!session) return 60;
  const max = SESSION_SHAPE[session].maxSeconds;
  const min = session === 'regular' ? 10 : 1;
  return min + Math.floor(unit(p.seed, p.key, CH_ACTIVE, minute) * (max - min + 1));
}

/** The minute bar opening at `minuteMs`, or undefined when it had no trades (Polygon only). */
export function minuteBar(p: Profile, minuteMs: number): RawBar | undefined {
  const m = minuteMs / MINUTE_MS;
  let session: Session | undefined;
  if (p.venue === 'polygon') {
    session = polygonSession(minuteMs);
    if (p.quietOutsideRegular && session !== 'regular') return undefined;
    if (unit(p.seed, p.key, CH_PRESENT, m) >= SESSION_SHAPE[session].present) return undefined;
  }
  const o = closeTicks(p, m - 1);
  if (isFlat(p, m)) return { openMs: minuteMs, o, h: o, l: o, c: o, v: 0, tb: 0, n: 0 };
  const c = closeTicks(p, m);
  const top = Math.max(o, c);
  const bottom = Math.min(o, c);
  const wickHi = unit(p.seed, p.key, CH_WICK_HI, m);
  const wickLo = unit(p.seed, p.key, CH_WICK_LO, m);
  const h = top + Math.round(top * 0.0008 * wickHi * wickHi);
  const l = Math.max(1, bottom - Math.round(bottom * 0.0008 * wickLo * wickLo));
  const k = activeSecondCount(p, m, session);
  const volumeShare = session ? SESSION_SHAPE[session].volume : 1;
  const v =
    k + Math.floor(p.meanLots * volumeShare * (0.2 + 1.6 * unit(p.seed, p.key, CH_VOLUME, m)));
  const tb = Math.floor(v * (0.3 + 0.4 * unit(p.seed, p.key, CH_TAKER, m)));
  const n = k + Math.floor(unit(p.seed, p.key, CH_TRADES, m) * 4 * k);
  return { openMs: minuteMs, o, h, l, c, v, tb, n };
}

/** Spreads `total` over `count` parts, each at least `floor`, summing exactly to `total`. */
function spread(p: Profile, salt: number, total: number, count: number, floor: number): number[] {
  const weights: number[] = [];
  let weightSum = 0;
  for (let j = 0; j < count; j++) {
    const w = 0.2 + unit(p.seed, p.key, CH_SECOND_WEIGHT, salt * 64 + j);
    weights.push(w);
    weightSum += w;
  }
  const rest = total - floor * count;
  const parts = weights.map((w) => floor + Math.floor((rest * w) / weightSum));
  let left = total - parts.reduce((a, b) => a + b, 0);
  for (let j = 0; left > 0; j = (j + 1) % count, left--) parts[j] = (parts[j] ?? 0) + 1;
  return parts;
}

/** Seconds (0..59) of `minute` that had trades, ascending. */
function activeSeconds(p: Profile, minute: number, k: number): number[] {
  if (k >= 60) return Array.from({ length: 60 }, (_, i) => i);
  const order = Array.from({ length: 60 }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + (hash4(p.seed, p.key, CH_ACTIVE, minute * 64 + i) % (60 - i));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order.slice(0, k).sort((a, b) => a - b);
}

/**
 * The 1-second bars inside `bar` (the minute opening at `bar.openMs`): first open and last close
 * equal the minute's, one second touches its high and one its low, and volumes, taker volumes and
 * trade counts sum exactly to the minute's. Binance has all 60 seconds; Polygon only active ones.
 */
export function secondBars(p: Profile, bar: RawBar): RawBar[] {
  const m = bar.openMs / MINUTE_MS;
  if (bar.v === 0) {
    return Array.from({ length: 60 }, (_, s) => ({ ...bar, openMs: bar.openMs + s * 1000 }));
  }
  const session = p.venue === 'polygon' ? polygonSession(bar.openMs) : undefined;
  const seconds = activeSeconds(p, m, activeSecondCount(p, m, session));
  const k = seconds.length;
  const volumes = spread(p, m * 3, bar.v, k, 1);
  const trades = spread(p, m * 3 + 1, bar.n, k, 1);
  const range = bar.h - bar.l;
  const iHigh = hash4(p.seed, p.key, CH_PATH, m) % k;
  let iLow = hash4(p.seed, p.key, CH_PATH + 1, m) % k;
  if (k > 1 && iLow === iHigh) iLow = (iHigh + 1) % k;
  const takers = volumes.map((v) => Math.floor((v * bar.tb) / bar.v));
  let takerLeft = bar.tb - takers.reduce((a, b) => a + b, 0);
  for (let j = 0; takerLeft > 0; j = (j + 1) % k) {
    const room = (volumes[j] as number) - (takers[j] as number);
    if (room > 0) {
      takers[j] = (takers[j] as number) + 1;
      takerLeft--;
    }
  }
  const out: RawBar[] = [];
  let open = bar.o;
  for (let j = 0; j < k; j++) {
    let close = bar.c;
    if (j < k - 1) {
      const drift = bar.o + ((bar.c - bar.o) * (j + 1)) / k;
      const jitter = (unit(p.seed, p.key, CH_PATH, m * 64 + j) - 0.5) * range * 0.6;
      close = Math.min(bar.h, Math.max(bar.l, Math.round(drift + jitter)));
    }
    const top = Math.max(open, close);
    const bottom = Math.min(open, close);
    const wick = unit(p.seed, p.key, CH_SECOND_WICK, m * 64 + j) ** 3;
    const h = j === iHigh ? bar.h : top + Math.round((bar.h - top) * wick);
    const l = j === iLow ? bar.l : bottom - Math.round((bottom - bar.l) * wick);
    const v = volumes[j] as number;
    const tb = takers[j] as number;
    const n = trades[j] as number;
    out.push({
      openMs: bar.openMs + (seconds[j] as number) * 1000,
      o: open,
      h,
      l,
      c: close,
      v,
      tb,
      n,
    });
    open = close;
  }
  return out;
}

/** Folds `bar` into `acc` (first open, last close, max high, min low, summed volumes). */
export function mergeInto(acc: RawBar | undefined, bar: RawBar): RawBar {
  if (!acc) return { ...bar };
  acc.h = Math.max(acc.h, bar.h);
  acc.l = Math.min(acc.l, bar.l);
  acc.c = bar.c;
  acc.v += bar.v;
  acc.tb += bar.tb;
  acc.n += bar.n;
  return acc;
}
