// The US stock market's calendar the simulated Polygon trades on (PROTOCOLS.md §2.4): sessions
// Monday–Friday, no trading on NYSE holidays, a 13:00 ET regular close on early-close days.
// Written from PROTOCOLS.md, not shared with the client, like ./calendar.ts.

import { nyLocalMs } from './ny-time.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A New York date as the exchange sees it. */
export type TradingDay = 'closed' | 'full' | 'early';

/** Where a minute falls: the regular session, pre-market or after-hours, or no trading at all. */
export type Session = 'regular' | 'extended' | 'closed';

/** PROTOCOLS.md §2.4 sessions, in minutes after New York midnight. */
const PRE_MARKET_OPEN = 4 * 60;
const REGULAR_OPEN = 9 * 60 + 30;
const REGULAR_CLOSE = 16 * 60;
const AFTER_HOURS_CLOSE = 20 * 60;
/** PROTOCOLS.md §2.4: the regular close on an early-close day. */
const EARLY_REGULAR_CLOSE = 13 * 60;
/**
 * Our assumption (PROTOCOLS.md §2.4 gives only the 13:00 regular close): after-hours trading on
 * an early-close day runs four hours, to 17:00 ET, as Nasdaq's post-market does on those days.
 */
const EARLY_AFTER_HOURS_CLOSE = 17 * 60;

/** Juneteenth became an NYSE holiday in 2022. */
const JUNETEENTH_FIRST_YEAR = 2022;

const dayCache = new Map<number, TradingDay>();

/**
 * The kind of New York date `year`-`month0`-`day` (month0 from 0) is: `closed` on weekends and
 * NYSE holidays (PROTOCOLS.md §2.4), `early` on early-close days, otherwise `full`.
 */
export function tradingDay(year: number, month0: number, day: number): TradingDay {
  const index = Math.floor(Date.UTC(year, month0, day) / DAY_MS);
  return tradingDayOfIndex(index);
}

/** The session of the minute containing `timeMs` (PROTOCOLS.md §2.4). */
export function session(timeMs: number): Session {
  const localMs = nyLocalMs(timeMs);
  const dayIndex = Math.floor(localMs / DAY_MS);
  const kind = tradingDayOfIndex(dayIndex);
  if (kind === 'closed') return 'closed';
  const minute = Math.floor((localMs - dayIndex * DAY_MS) / MINUTE_MS);
  const regularClose = kind === 'early' ? EARLY_REGULAR_CLOSE : REGULAR_CLOSE;
  const afterHoursClose = kind === 'early' ? EARLY_AFTER_HOURS_CLOSE : AFTER_HOURS_CLOSE;
  if (minute >= REGULAR_OPEN && minute < regularClose) return 'regular';
  if (minute >= PRE_MARKET_OPEN && minute < afterHoursClose) return 'extended';
  return 'closed';
}

/** `dayIndex` counts New York dates since 1970-01-01 (day 0, a Thursday). */
function tradingDayOfIndex(dayIndex: number): TradingDay {
  const cached = dayCache.get(dayIndex);
  if (cached !== undefined) return cached;
  const date = new Date(dayIndex * DAY_MS);
  const year = date.getUTCFullYear();
  const weekday = date.getUTCDay();
  let kind: TradingDay = 'full';
  if (weekday === 0 || weekday === 6 || holidayIndexes(year).has(dayIndex)) kind = 'closed';
  else if (earlyCloseIndexes(year).has(dayIndex)) kind = 'early';
  if (dayCache.size > 100_000) dayCache.clear();
  dayCache.set(dayIndex, kind);
  return kind;
}

const holidaysByYear = new Map<number, Set<number>>();
const earlyByYear = new Map<number, Set<number>>();

function indexOf(year: number, month0: number, day: number): number {
  return Math.floor(Date.UTC(year, month0, day) / DAY_MS);
}

/** The `n`th (1-based; -1 = last) `weekday` of a month, as a day index. */
function nthWeekday(year: number, month0: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month0, 1)).getUTCDay();
    return indexOf(year, month0, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDay = new Date(Date.UTC(year, month0 + 1, 0));
  const back = (lastDay.getUTCDay() - weekday + 7) % 7;
  return indexOf(year, month0, lastDay.getUTCDate() - back);
}

/** PROTOCOLS.md §2.4: a holiday on a Saturday moves to Friday, on a Sunday to Monday. */
function observed(year: number, month0: number, day: number): number {
  const weekday = new Date(Date.UTC(year, month0, day)).getUTCDay();
  const index = indexOf(year, month0, day);
  if (weekday === 6) return index - 1;
  if (weekday === 0) return index + 1;
  return index;
}

/** Easter Sunday (Gregorian, the anonymous "Meeus/Jones/Butcher" algorithm), as a day index. */
function easterIndex(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return indexOf(year, month - 1, day);
}

/** PROTOCOLS.md §2.4: the ten NYSE holidays of `year`, observed dates, as day indexes. */
function holidayIndexes(year: number): Set<number> {
  let set = holidaysByYear.get(year);
  if (set) return set;
  set = new Set<number>();
  // New Year's Day on a Saturday is not moved back into the old year: NYSE Rule 7.2 keeps the
  // last trading day of a year open (e.g. Friday 2021-12-31). PROTOCOLS.md's general rule would
  // close it; the exchange does not.
  if (new Date(Date.UTC(year, 0, 1)).getUTCDay() !== 6) set.add(observed(year, 0, 1));
  set.add(nthWeekday(year, 0, 1, 3)); // Martin Luther King Jr. Day: third Monday of January
  set.add(nthWeekday(year, 1, 1, 3)); // Presidents' Day: third Monday of February
  set.add(easterIndex(year) - 2); // Good Friday
  set.add(nthWeekday(year, 4, 1, -1)); // Memorial Day: last Monday of May
  if (year >= JUNETEENTH_FIRST_YEAR) set.add(observed(year, 5, 19));
  set.add(observed(year, 6, 4)); // Independence Day
  set.add(nthWeekday(year, 8, 1, 1)); // Labor Day: first Monday of September
  set.add(nthWeekday(year, 10, 4, 4)); // Thanksgiving: fourth Thursday of November
  set.add(observed(year, 11, 25)); // Christmas
  holidaysByYear.set(year, set);
  return set;
}

/**
 * PROTOCOLS.md §2.4 early closes: the day after Thanksgiving, and Christmas Eve and July 3rd
 * when they fall Monday–Thursday (on a Friday they are the observed holiday itself).
 */
function earlyCloseIndexes(year: number): Set<number> {
  let set = earlyByYear.get(year);
  if (set) return set;
  set = new Set<number>([nthWeekday(year, 10, 4, 4) + 1]);
  for (const [month0, day] of [
    [6, 3],
    [11, 24],
  ] as const) {
    const weekday = new Date(Date.UTC(year, month0, day)).getUTCDay();
    if (weekday >= 1 && weekday <= 4) set.add(indexOf(year, month0, day));
  }
  earlyByYear.set(year, set);
  return set;
}
