// US trading dates (PROTOCOLS.md §2.4): Monday–Friday except the NYSE holidays, a holiday on a
// weekend moved to the nearest weekday (New Year's Day on a Saturday is not moved). One-off
// closures (national days of mourning) are not in any rule and so count as trading dates.

const NY_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The America/New_York calendar date (`YYYY-MM-DD`) at `timeMs`. */
export function nyDateOf(timeMs: number): string {
  return NY_DATE.format(new Date(timeMs));
}

/** The date after `date` (`YYYY-MM-DD`). */
export function nextDate(date: string): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

const holidayCache = new Map<number, Set<string>>();

/** True for a weekday that is not an NYSE holiday. */
export function isTradingDate(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  if (day === 0 || day === 6) return false;
  const year = Number(date.slice(0, 4));
  let holidays = holidayCache.get(year);
  if (!holidays) {
    holidays = nyseHolidays(year);
    holidayCache.set(year, holidays);
  }
  return !holidays.has(date);
}

/** NYSE full-day holidays of `year`, as observed. */
export function nyseHolidays(year: number): Set<string> {
  const dates = new Set<string>();
  const newYear = utc(year, 0, 1);
  if (newYear.getUTCDay() === 0) dates.add(iso(utc(year, 0, 2)));
  else if (newYear.getUTCDay() !== 6) dates.add(iso(newYear));
  dates.add(iso(nthWeekday(year, 0, 1, 3))); // Martin Luther King Jr. Day
  dates.add(iso(nthWeekday(year, 1, 1, 3))); // Presidents' Day
  const easter = easterSunday(year);
  dates.add(iso(new Date(easter.getTime() - 2 * 86_400_000))); // Good Friday
  dates.add(iso(lastWeekday(year, 4, 1))); // Memorial Day
  if (year >= 2022) dates.add(iso(observed(utc(year, 5, 19)))); // Juneteenth
  dates.add(iso(observed(utc(year, 6, 4)))); // Independence Day
  dates.add(iso(nthWeekday(year, 8, 1, 1))); // Labor Day
  dates.add(iso(nthWeekday(year, 10, 4, 4))); // Thanksgiving
  dates.add(iso(observed(utc(year, 11, 25)))); // Christmas
  return dates;
}

function utc(year: number, month0: number, day: number): Date {
  return new Date(Date.UTC(year, month0, day));
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function observed(date: Date): Date {
  const day = date.getUTCDay();
  if (day === 6) return new Date(date.getTime() - 86_400_000);
  if (day === 0) return new Date(date.getTime() + 86_400_000);
  return date;
}

function nthWeekday(year: number, month0: number, weekday: number, n: number): Date {
  const first = utc(year, month0, 1);
  const offset = (weekday - first.getUTCDay() + 7) % 7;
  return utc(year, month0, 1 + offset + (n - 1) * 7);
}

function lastWeekday(year: number, month0: number, weekday: number): Date {
  const last = utc(year, month0 + 1, 0);
  const offset = (last.getUTCDay() - weekday + 7) % 7;
  return utc(year, month0, last.getUTCDate() - offset);
}

// Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
function easterSunday(year: number): Date {
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
  return utc(year, month - 1, day);
}

/** The instant of New York midnight starting `date` (`YYYY-MM-DD`). */
export function nyMidnightMs(date: string): number {
  const utcMidnightMs = Date.parse(`${date}T00:00:00Z`);
  // New York is 4 or 5 hours behind UTC; pick the candidate that New York calls midnight.
  for (const hours of [4, 5]) {
    const candidateMs = utcMidnightMs + hours * 3_600_000;
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'America/New_York',
      hour: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(candidateMs));
    if (nyDateOf(candidateMs) === date && Number(parts) === 0) return candidateMs;
  }
  return utcMidnightMs + 5 * 3_600_000;
}
