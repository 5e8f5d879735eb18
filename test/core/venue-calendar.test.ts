import { describe, expect, it } from 'vitest';
import { calendarDay, dayEndMs, dayStartMs, isDayString } from '../../src/core/venue-calendar.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('venue calendar days', () => {
  it('UTC days run from midnight to the last millisecond', () => {
    expect(iso(dayStartMs('2024-01-01', 'UTC'))).toBe('2024-01-01T00:00:00.000Z');
    expect(iso(dayEndMs('2024-01-31', 'UTC'))).toBe('2024-01-31T23:59:59.999Z');
    expect(iso(dayEndMs('2024-02-29', 'UTC'))).toBe('2024-02-29T23:59:59.999Z');
  });

  it('New York days follow EST and EDT, including the DST switch days', () => {
    const ny = 'America/New_York' as const;
    expect(iso(dayStartMs('2024-01-02', ny))).toBe('2024-01-02T05:00:00.000Z');
    expect(iso(dayEndMs('2024-01-02', ny))).toBe('2024-01-03T04:59:59.999Z');
    expect(iso(dayStartMs('2024-07-04', ny))).toBe('2024-07-04T04:00:00.000Z');
    // 2024-03-10 has 23 hours in New York, 2024-11-03 has 25.
    expect(iso(dayStartMs('2024-03-10', ny))).toBe('2024-03-10T05:00:00.000Z');
    expect(iso(dayEndMs('2024-03-10', ny))).toBe('2024-03-11T03:59:59.999Z');
    expect(iso(dayStartMs('2024-11-03', ny))).toBe('2024-11-03T04:00:00.000Z');
    expect(iso(dayEndMs('2024-11-03', ny))).toBe('2024-11-04T04:59:59.999Z');
  });

  it('names the calendar day of an instant', () => {
    expect(calendarDay(Date.parse('2024-02-01T04:59:59.999Z'), 'America/New_York')).toBe(
      '2024-01-31',
    );
    expect(calendarDay(Date.parse('2024-02-01T04:59:59.999Z'), 'UTC')).toBe('2024-02-01');
  });

  it('accepts only real YYYY-MM-DD dates', () => {
    expect(isDayString('2024-02-29')).toBe(true);
    expect(isDayString('2023-02-29')).toBe(false);
    expect(isDayString('2024-2-1')).toBe(false);
    expect(Number.isNaN(dayStartMs('2024-13-01', 'UTC'))).toBe(true);
  });
});
