// America/New_York calendar arithmetic for Polygon day/week/month bars (PROTOCOLS.md §2.2:
// day bars start at New York midnight, weeks Sunday 00:00 ET, months on the 1st ET).

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const formatter = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
});

const offsetByHour = new Map<number, number>();

/** New York's UTC offset in ms at `timeMs` (−5 h or −4 h); cached per UTC hour. */
export function nyOffsetMs(timeMs: number): number {
  const hour = Math.floor(timeMs / HOUR_MS);
  const cached = offsetByHour.get(hour);
  if (cached !== undefined) return cached;
  const parts = formatter.formatToParts(new Date(hour * HOUR_MS));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const localAsUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
  );
  const offset = localAsUtc - hour * HOUR_MS;
  if (offsetByHour.size > 100_000) offsetByHour.clear();
  offsetByHour.set(hour, offset);
  return offset;
}

/** Local New York wall time of `timeMs`, expressed as if it were UTC (for getUTC* calls). */
export function nyLocalMs(timeMs: number): number {
  return timeMs + nyOffsetMs(timeMs);
}

/** UTC ms of New York midnight on local date (year, month0, day); month/day may overflow. */
export function nyMidnightMs(year: number, month0: number, day: number): number {
  // Midnight is 05:00 UTC in EST and 04:00 UTC in EDT (DST switches happen at 02:00).
  const guessMs = Date.UTC(year, month0, day, 5);
  return new Date(nyLocalMs(guessMs)).getUTCHours() === 1 ? guessMs - HOUR_MS : guessMs;
}

/** Start (UTC ms) of the New York day containing `timeMs`. */
export function nyDayStartMs(timeMs: number): number {
  const local = new Date(nyLocalMs(timeMs));
  return nyMidnightMs(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
}

/** Start of the next New York day after the one containing `timeMs`. */
export function nyNextDayStartMs(timeMs: number): number {
  const local = new Date(nyLocalMs(timeMs));
  return nyMidnightMs(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1);
}

/** Start of the New York week (Sunday 00:00 ET) containing `timeMs`. */
export function nyWeekStartMs(timeMs: number): number {
  const local = new Date(nyLocalMs(timeMs));
  return nyMidnightMs(
    local.getUTCFullYear(),
    local.getUTCMonth(),
    local.getUTCDate() - local.getUTCDay(),
  );
}

/** Start of the New York month (the 1st, 00:00 ET) containing `timeMs`, shifted by `add` months. */
export function nyMonthStartMs(timeMs: number, add = 0): number {
  const local = new Date(nyLocalMs(timeMs));
  return nyMidnightMs(local.getUTCFullYear(), local.getUTCMonth() + add, 1);
}

/** Minutes since New York midnight and the weekday (0 = Sunday) at `timeMs`. */
export function nyMinuteOfDay(timeMs: number): { minute: number; weekday: number } {
  const local = nyLocalMs(timeMs);
  const dayIndex = Math.floor(local / DAY_MS);
  return {
    minute: Math.floor((local - dayIndex * DAY_MS) / 60_000),
    weekday: (((dayIndex + 4) % 7) + 7) % 7,
  };
}
