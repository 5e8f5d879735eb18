// America/New_York dates for US stocks (PROTOCOLS.md §2.2, §2.4): Polygon's day bars start at New
// York midnight, weeks on Sunday 00:00 ET, months on the 1st ET, and its day strings are New
// York dates. Offsets come from the platform's time-zone data (Intl), so DST needs no table.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const parts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
});

/** New York's offset from UTC changes only on whole UTC hours, so one lookup per hour. */
const offsetByHour = new Map<number, number>();

/** New York's UTC offset at `timeMs`, in ms (−5 h in winter, −4 h in summer). */
export function nyOffsetMs(timeMs: number): number {
  const hour = Math.floor(timeMs / HOUR_MS);
  const cached = offsetByHour.get(hour);
  if (cached !== undefined) return cached;
  const fields: Record<string, number> = {};
  for (const part of parts.formatToParts(new Date(hour * HOUR_MS))) {
    fields[part.type] = Number(part.value);
  }
  const wallMs = Date.UTC(
    fields.year ?? 1970,
    (fields.month ?? 1) - 1,
    fields.day ?? 1,
    fields.hour ?? 0,
  );
  const offsetMs = wallMs - hour * HOUR_MS;
  if (offsetByHour.size > 50_000) offsetByHour.clear();
  offsetByHour.set(hour, offsetMs);
  return offsetMs;
}

/** The New York wall-clock time of `timeMs` written as if it were UTC (read with getUTC*). */
function wallMs(timeMs: number): number {
  return timeMs + nyOffsetMs(timeMs);
}

/** UTC ms of 00:00 New York time on the given date; `month0`/`day` may overflow (Date.UTC). */
export function nyMidnightMs(year: number, month0: number, day: number): number {
  const midnightAsUtc = Date.UTC(year, month0, day);
  // Midnight is 04:00 or 05:00 UTC; 04:00 UTC is 23:00 or 00:00 in New York, and DST only ever
  // changes at 02:00 local, so the offset there is midnight's.
  return midnightAsUtc - nyOffsetMs(midnightAsUtc + 4 * HOUR_MS);
}

/** Start of the New York day containing `timeMs`, shifted by `addDays` days. */
export function nyDayStartMs(timeMs: number, addDays = 0): number {
  const wall = new Date(wallMs(timeMs));
  return nyMidnightMs(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + addDays);
}

/** Start of the New York week (Sunday 00:00 ET) containing `timeMs`, shifted by `addWeeks`. */
export function nyWeekStartMs(timeMs: number, addWeeks = 0): number {
  const wall = new Date(wallMs(timeMs));
  const sunday = wall.getUTCDate() - wall.getUTCDay();
  return nyMidnightMs(wall.getUTCFullYear(), wall.getUTCMonth(), sunday + 7 * addWeeks);
}

/** Start of the New York month (the 1st, 00:00 ET) containing `timeMs`, shifted by `addMonths`. */
export function nyMonthStartMs(timeMs: number, addMonths = 0): number {
  const wall = new Date(wallMs(timeMs));
  return nyMidnightMs(wall.getUTCFullYear(), wall.getUTCMonth() + addMonths, 1);
}

/** The New York date (`YYYY-MM-DD`) of `timeMs`. */
export function nyDate(timeMs: number): string {
  return new Date(wallMs(timeMs)).toISOString().slice(0, 10);
}

/** Day of the week in New York at `timeMs` (0 = Sunday). */
export function nyWeekday(timeMs: number): number {
  return new Date(wallMs(timeMs)).getUTCDay();
}

/**
 * The instants of whole New York days `startDay` … `endDay` (`YYYY-MM-DD`, both included):
 * from the first day's midnight to the last ms before the midnight after the last day. This is
 * what a day string means for US stocks (PROTOCOLS.md §2.4), e.g. for the America/New_York
 * calendar of `core/download-range.ts`.
 */
export function nyDayRangeMs(startDay: string, endDay: string): { startMs: number; endMs: number } {
  return { startMs: nyDayMs(startDay, 0), endMs: nyDayMs(endDay, 1) - 1 };
}

/** True when `[startMs, endMs]` is exactly whole New York days, as {@link nyDayRangeMs} gives. */
export function isNyDayRange(startMs: number, endMs: number): boolean {
  return nyDayStartMs(startMs) === startMs && nyDayStartMs(endMs + 1) === endMs + 1;
}

function nyDayMs(day: string, addDays: number): number {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  return nyMidnightMs(year, month - 1, date + addDays);
}

/** Whole New York days between two midnights (23-, 24- and 25-hour days count one each). */
export function nyDaysBetween(fromMidnightMs: number, toMidnightMs: number): number {
  return Math.round((wallMs(toMidnightMs) - wallMs(fromMidnightMs)) / DAY_MS);
}
