import { describe, expect, it } from 'vitest';
import { nextBucketStartMs } from '../../src/core/intervals.js';
import { missingOpenTimes, orderHeldBars, skipsBars } from '../../src/stream/backfill.js';
import { OpenTimeDedup } from '../../src/stream/dedup.js';
import { connectionTooOld, heartbeatVerdict } from '../../src/stream/heartbeat.js';

const MINUTE = 60_000;
const nextMinute = (openMs: number) => openMs + MINUTE;

describe('OpenTimeDedup', () => {
  it('accepts only strictly increasing open times, per symbol', () => {
    const dedup = new OpenTimeDedup();
    expect(dedup.accept('A', 2 * MINUTE)).toBe(true);
    expect(dedup.accept('A', 2 * MINUTE)).toBe(false);
    expect(dedup.accept('A', MINUTE)).toBe(false);
    expect(dedup.accept('B', MINUTE)).toBe(true);
    expect(dedup.accept('A', 3 * MINUTE)).toBe(true);
    expect(dedup.last('A')).toBe(3 * MINUTE);
    expect(dedup.last('C')).toBeUndefined();
  });
});

describe('backfill arithmetic', () => {
  it('lists the open times strictly between the last yielded and the first live bar', () => {
    expect(missingOpenTimes(0, 4 * MINUTE, nextMinute)).toEqual([MINUTE, 2 * MINUTE, 3 * MINUTE]);
    expect(missingOpenTimes(0, MINUTE, nextMinute)).toEqual([]);
  });

  it('steps calendar months for 1M', () => {
    const jan = Date.UTC(2024, 0, 1);
    const may = Date.UTC(2024, 4, 1);
    const next = (openMs: number) => nextBucketStartMs('1M', openMs);
    expect(missingOpenTimes(jan, may, next)).toEqual([
      Date.UTC(2024, 1, 1),
      Date.UTC(2024, 2, 1),
      Date.UTC(2024, 3, 1),
    ]);
    expect(skipsBars(jan, Date.UTC(2024, 1, 1), next)).toBe(false);
    expect(skipsBars(jan, Date.UTC(2024, 2, 1), next)).toBe(true);
  });

  it('orders held bars by open time', () => {
    const bar = (t: number) => ({
      id: '',
      symbol: 'A',
      time: new Date(t),
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      volume: 0,
    });
    expect(orderHeldBars([bar(3), bar(1), bar(2)]).map((b) => b.time.getTime())).toEqual([1, 2, 3]);
  });
});

describe('heartbeat', () => {
  it('declares a socket silent only past the deadline and never while paused', () => {
    expect(heartbeatVerdict(1000, 0, 1000, false, 999, 10_000)).toBe('silent');
    expect(heartbeatVerdict(1000, 0, 1000, false, 1000, 10_000)).toBe('ok');
    expect(heartbeatVerdict(1000, 0, 1000, true, 10, 10_000)).toBe('ok');
  });

  it('pings once the ping interval has passed', () => {
    expect(heartbeatVerdict(20_000, 19_000, 0, false, 60_000, 20_000)).toBe('ping');
    expect(heartbeatVerdict(19_999, 19_000, 0, false, 60_000, 20_000)).toBe('ok');
  });

  it('rotates on exchange-time age only', () => {
    expect(connectionTooOld(undefined, 10_000, 1000)).toBe(false);
    expect(connectionTooOld(0, 999, 1000)).toBe(false);
    expect(connectionTooOld(0, 1000, 1000)).toBe(true);
    expect(connectionTooOld(0, 1e12, undefined)).toBe(false);
  });
});
