// Whole calendar days in a venue's time zone (DESIGN.md §4: a day string means the whole day,
// both ends included, in the venue's calendar: UTC for Binance, America/New_York for Polygon).

/** The time zone whose calendar a venue's day strings are read in. */
export type VenueCalendar = 'UTC' | 'America/New_York';

import { nyOffsetMs } from './ny-calendar.js';

const DAY_MS = 86_400_000;
const DAY_STRING = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar's UTC offset in ms at `timeMs` (0 for UTC; −5 h or −4 h for New York). */
export function calendarOffsetMs(calendar: VenueCalendar, timeMs: number): number {
  return calendar === 'UTC' ? 0 : nyOffsetMs(timeMs);
}

/** UTC midnight of (year, month0, day); years 0–99 are real years, not 1900–1999. */
function utcMidnightMs(year: number, month0: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month0, day);
  return date.getTime();
}

function parseDay(text: string): number {
  const m = DAY_STRING.exec(text);
  if (!m) return Number.NaN;
  const [year, month0, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const ms = utcMidnightMs(year, month0, day);
  const date = new Date(ms);
  // 2024-02-30 rolls over to March; a real date keeps its fields.
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month0 && date.getUTCDate() === day;
  return real ? ms : Number.NaN;
}

/** True when `text` is a `YYYY-MM-DD` day string naming a real date (2024-02-30 is not). */
export function isDayString(text: string): boolean {
  return !Number.isNaN(parseDay(text));
}

// Local midnight is UTC midnight minus the offset; the offset at that instant decides (DST
// switches happen at 02:00 local, never at midnight, so one correction is enough).
function zonedMidnightMs(utcMidnight: number, calendar: VenueCalendar): number {
  if (calendar === 'UTC') return utcMidnight;
  const guess = utcMidnight - calendarOffsetMs(calendar, utcMidnight);
  return utcMidnight - calendarOffsetMs(calendar, guess);
}

/** UTC ms of midnight starting `day` (`YYYY-MM-DD`) in `calendar`; NaN for a non-day. */
export function dayStartMs(day: string, calendar: VenueCalendar): number {
  const utcMidnight = parseDay(day);
  return Number.isNaN(utcMidnight) ? utcMidnight : zonedMidnightMs(utcMidnight, calendar);
}

/** UTC ms of the last millisecond of `day` in `calendar` (the day's end, inclusive). */
export function dayEndMs(day: string, calendar: VenueCalendar): number {
  const utcMidnight = parseDay(day);
  if (Number.isNaN(utcMidnight)) return utcMidnight;
  return zonedMidnightMs(utcMidnight + DAY_MS, calendar) - 1;
}

/** The `YYYY-MM-DD` date of instant `timeMs` in `calendar` (New York's trading date for Polygon). */
export function calendarDay(timeMs: number, calendar: VenueCalendar): string {
  return new Date(timeMs + calendarOffsetMs(calendar, timeMs)).toISOString().slice(0, 10);
}
