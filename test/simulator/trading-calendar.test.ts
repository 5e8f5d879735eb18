import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { session, tradingDay } from '../../src/simulator/trading-calendar.js';
import { TestClient } from './ws-client.js';

// Anchors are the NYSE's published calendars, not either implementation (PROTOCOLS.md §2.4).
const HOLIDAYS_2024 = [
  '2024-01-01',
  '2024-01-15',
  '2024-02-19',
  '2024-03-29',
  '2024-05-27',
  '2024-06-19',
  '2024-07-04',
  '2024-09-02',
  '2024-11-28',
  '2024-12-25',
];

function dayOf(date: string): ReturnType<typeof tradingDay> {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return tradingDay(year, month - 1, day);
}

/** UTC ms of a New York wall time, given its UTC offset in hours (-5 EST, -4 EDT). */
function ny(date: string, time: string, offsetHours: number): number {
  return Date.parse(`${date}T${time}:00Z`) - offsetHours * 3_600_000;
}

describe('US trading calendar (simulator)', () => {
  it('closes weekends and the ten NYSE holidays of 2024, nothing else', () => {
    const closed: string[] = [];
    for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 86_400_000) {
      const date = new Date(ms).toISOString().slice(0, 10);
      const weekday = new Date(ms).getUTCDay();
      if (weekday !== 0 && weekday !== 6 && dayOf(date) === 'closed') closed.push(date);
    }
    expect(closed).toEqual(HOLIDAYS_2024);
    expect(dayOf('2024-03-30')).toBe('closed'); // Saturday
    expect(dayOf('2024-03-28')).toBe('full');
  });

  it('moves weekend holidays to the nearest weekday, except New Year on a Saturday', () => {
    expect(dayOf('2023-01-02')).toBe('closed'); // New Year's Day on a Sunday
    expect(dayOf('2022-06-20')).toBe('closed'); // Juneteenth on a Sunday
    expect(dayOf('2021-12-24')).toBe('closed'); // Christmas on a Saturday
    expect(dayOf('2021-07-05')).toBe('closed'); // Independence Day on a Sunday
    expect(dayOf('2021-12-31')).toBe('full'); // NYSE stays open before a Saturday New Year
    expect(dayOf('2021-06-18')).toBe('full'); // Juneteenth only from 2022
  });

  it('closes early after Thanksgiving and on a weekday Christmas Eve or July 3rd', () => {
    expect(['2024-07-03', '2024-11-29', '2024-12-24'].map(dayOf)).toEqual([
      'early',
      'early',
      'early',
    ]);
    expect(['2023-07-03', '2023-11-24', '2019-12-24'].map(dayOf)).toEqual([
      'early',
      'early',
      'early',
    ]);
    expect(dayOf('2020-07-03')).toBe('closed'); // July 4th on a Saturday: the holiday itself
    expect(dayOf('2023-12-22')).toBe('full'); // Christmas Eve on a Sunday: no early close
  });

  it('puts minutes in pre-market, regular and after-hours sessions in both DST regimes', () => {
    for (const [date, offset] of [
      ['2024-01-10', -5],
      ['2024-07-10', -4],
    ] as const) {
      expect(
        ['03:59', '04:00', '09:29', '09:30', '15:59', '16:00', '19:59', '20:00'].map((t) =>
          session(ny(date, t, offset)),
        ),
      ).toEqual([
        'closed',
        'extended',
        'extended',
        'regular',
        'regular',
        'extended',
        'extended',
        'closed',
      ]);
    }
    // Early close: regular to 13:00, after-hours to 17:00 (our assumption for after-hours).
    expect(
      ['12:59', '13:00', '16:59', '17:00'].map((t) => session(ny('2024-11-29', t, -5))),
    ).toEqual(['regular', 'extended', 'extended', 'closed']);
    expect(session(ny('2024-07-04', '10:00', -4))).toBe('closed');
  });
});

const open: Array<Simulator | TestClient> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function sim(startMs: number, speed = 1): Promise<Simulator> {
  const s = await startSimulator({ seed: 5, speed, start: startMs, polygonApiKey: 'k' });
  open.push(s);
  return s;
}

interface Aggs {
  results?: Array<{ t: number; o: number; h: number; l: number; c: number; v: number }>;
}

async function aggs(s: Simulator, path: string): Promise<NonNullable<Aggs['results']>> {
  const res = await fetch(`${s.polygon.restUrl}/v2/aggs/ticker/${path}?apiKey=k&limit=50000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as Aggs).results ?? [];
}

describe('Polygon simulator on the trading calendar', () => {
  it('serves day bars only for trading dates, and no minute outside the sessions', async () => {
    const s = await sim(Date.UTC(2024, 11, 31, 12));
    // Thanksgiving week to the week after Christmas: two holidays, three early closes.
    const days = await aggs(s, 'AAPL/range/1/day/2024-11-24/2024-12-29');
    const dates = days.map((d) => new Date(d.t - 5 * 3_600_000).toISOString().slice(0, 10));
    expect(dates).not.toContain('2024-11-28');
    expect(dates).not.toContain('2024-12-25');
    expect(dates.some((d) => [0, 6].includes(new Date(d).getUTCDay()))).toBe(false);
    expect(dates).toHaveLength(23); // 25 weekdays, 2 holidays
    for (const d of days) expect(new Date(d.t).getUTCHours()).toBe(5); // New York midnight, EST
    const minutes = await aggs(s, 'AAPL/range/1/minute/2024-11-27/2024-12-01');
    expect(minutes.length).toBeGreaterThan(500);
    for (const m of minutes) expect(session(m.t)).not.toBe('closed');
    const earlyDay = minutes.filter((m) => m.t >= ny('2024-11-29', '00:00', -5));
    expect(earlyDay.length).toBeGreaterThan(200);
    expect(Math.max(...earlyDay.map((m) => m.t))).toBeLessThan(ny('2024-11-29', '17:00', -5));
    expect(await aggs(s, 'AAPL/range/1/minute/2024-11-30/2024-12-01')).toEqual([]);
    expect(await aggs(s, 'AAPL/range/1/week/2024-11-24/2024-11-30')).toHaveLength(1);
  });

  it('WebSocket and REST agree across the early close: events stop at 17:00 ET', async () => {
    const s = await sim(ny('2024-11-29', '16:50', -5), 600);
    const c = await new TestClient(`${s.polygon.wsUrl}/stocks`).open();
    open.push(c);
    c.send({ action: 'auth', params: 'k' });
    c.send({ action: 'subscribe', params: 'AM.AAPL' });
    await c.json((m: Array<{ status?: string }>) => m[0]?.status === 'success');
    await s.clock.until(ny('2024-11-29', '17:15', -5));
    const events: Array<{ s: number; o: number; h: number; l: number; c: number; v: number }> = [];
    for (const frame of c.frames.splice(0)) {
      for (const e of JSON.parse(frame) as Array<{ ev: string } & (typeof events)[number]>) {
        if (e.ev === 'AM') events.push(e);
      }
    }
    const firstMs = events[0]?.s ?? Number.NaN;
    expect(firstMs).toBeLessThan(ny('2024-11-29', '16:58', -5));
    const rest = await aggs(s, `AAPL/range/1/minute/${firstMs}/${ny('2024-11-29', '17:14', -5)}`);
    expect(events.map((e) => [e.s, e.o, e.h, e.l, e.c, e.v])).toEqual(
      rest.map((b) => [b.t, b.o, b.h, b.l, b.c, b.v]),
    );
    expect(Math.max(...events.map((e) => e.s))).toBeLessThan(ny('2024-11-29', '17:00', -5));
  });

  it('sends no aggregates on a weekend', async () => {
    const s = await sim(ny('2024-11-30', '12:00', -5), 600);
    const c = await new TestClient(`${s.polygon.wsUrl}/stocks`).open();
    open.push(c);
    c.send({ action: 'auth', params: 'k' });
    c.send({ action: 'subscribe', params: 'AM.*,A.*' });
    await c.json((m: Array<{ status?: string }>) => m[0]?.status === 'success');
    await s.clock.until(ny('2024-11-30', '12:20', -5));
    const data = c.frames.filter((f) => /"ev":"A/.test(f));
    expect(data).toEqual([]);
    expect(await aggs(s, 'MSFT/range/1/minute/2024-11-30/2024-11-30')).toEqual([]);
  });
});
