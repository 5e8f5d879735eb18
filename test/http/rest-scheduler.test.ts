import { describe, expect, it } from 'vitest';
import { getJson } from '../../src/http/request.js';
import {
  RestScheduler,
  schedulerHost,
  sharedRestScheduler,
} from '../../src/http/rest-scheduler.js';
import { createClock } from '../../src/simulator/clock.js';
import { startSimulator } from '../../src/simulator/index.js';

// Windows are counted on an accelerated clock (the simulator's own), so a 60 s window passes
// in 100 real ms and the tests wait on grants, never on fixed sleeps.
const SPEED = 600;
const MINUTE = 60_000;

function grantsPerWindow(times: number[], windowMs: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of times) {
    const index = Math.floor(t / windowMs);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return counts;
}

describe('RestScheduler', () => {
  it('reserves the cost before granting: no window ever holds more than its limit', async () => {
    const clock = createClock(Date.UTC(2024, 0, 1), SPEED);
    const scheduler = new RestScheduler({
      windows: [{ limit: 10, windowMs: MINUTE }],
      headroom: 1,
      maxConcurrency: 50,
      clock,
    });
    const grantedAt: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        const permit = await scheduler.acquire(2);
        grantedAt.push(clock.now());
        permit.release(1);
      }),
    );
    clock.dispose();
    const perWindow = grantsPerWindow(grantedAt, MINUTE);
    for (const count of perWindow.values()) expect(count * 2).toBeLessThanOrEqual(10);
    // 25 requests of cost 2 at 10 per window need at least five windows.
    expect(perWindow.size).toBeGreaterThanOrEqual(5);
    expect(scheduler.stats.granted).toBe(25);
    expect(scheduler.stats.reservedCost).toBe(50);
  });

  it('keeps in-flight requests under the concurrency bound and serves waiters in order', async () => {
    const scheduler = new RestScheduler({
      windows: [{ limit: 1_000_000, windowMs: MINUTE }],
      maxConcurrency: 2,
      minConcurrency: 2,
    });
    const first = await scheduler.acquire(1);
    const second = await scheduler.acquire(1);
    const order: number[] = [];
    const third = scheduler.acquire(1).then((p) => {
      order.push(3);
      return p;
    });
    const fourth = scheduler.acquire(1).then((p) => {
      order.push(4);
      return p;
    });
    await Promise.resolve();
    expect(scheduler.inFlight).toBe(2);
    expect(scheduler.waiting).toBe(2);
    first.release();
    (await third).release();
    second.release();
    (await fourth).release();
    expect(order).toEqual([3, 4]);
    expect(scheduler.stats.peakInFlight).toBe(2);
  });

  it('raises concurrency with latency and the window rate, within its bounds', () => {
    const scheduler = new RestScheduler({
      windows: [{ limit: 6000, windowMs: MINUTE }],
      headroom: 1,
      maxConcurrency: 64,
    });
    const measure = async (latencyMs: number) => {
      for (let i = 0; i < 40; i++) (await scheduler.acquire(2)).release(latencyMs);
      return scheduler.concurrency;
    };
    return (async () => {
      // 6000/min at cost 2 = 0.05 requests/ms: 50 ms -> ceil(0.05*50*2)+1 = 6; 500 ms -> 51.
      expect(await measure(50)).toBeGreaterThanOrEqual(6);
      expect(scheduler.concurrency).toBeLessThanOrEqual(7);
      expect(await measure(500)).toBeGreaterThanOrEqual(51);
      expect(scheduler.concurrency).toBeLessThanOrEqual(52);
      expect(await measure(5000)).toBe(64);
    })();
  });

  it('adopts a published limit and raises its count from the used-weight header', async () => {
    const clock = createClock(Date.UTC(2024, 0, 1, 0, 0, 1), 1);
    const scheduler = new RestScheduler({
      windows: [{ limit: 100, windowMs: MINUTE }],
      headroom: 1,
      clock,
    });
    scheduler.observeUsed(MINUTE, 95);
    (await scheduler.acquire(5)).release();
    const controller = new AbortController();
    const blocked = scheduler.acquire(1, controller.signal);
    await Promise.resolve();
    expect(scheduler.waiting).toBe(1);
    // A higher published limit makes room at once.
    scheduler.setLimit(MINUTE, 200);
    (await blocked).release();
    expect(scheduler.limitOf(MINUTE)).toBe(200);
    // A lower reading never lowers the count (answers arrive out of order).
    scheduler.observeUsed(MINUTE, 3);
    scheduler.setLimit(MINUTE, 101);
    const again = scheduler.acquire(1, controller.signal);
    const rejected = expect(again).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.resolve();
    expect(scheduler.waiting).toBe(1);
    controller.abort();
    await rejected;
    expect(scheduler.waiting).toBe(0);
    clock.dispose();
  });

  it('grants nothing while paused by a 429 or a ban', async () => {
    const scheduler = new RestScheduler({ windows: [{ limit: 100, windowMs: MINUTE }] });
    const pausedAt = performance.now();
    scheduler.pause(60, 'banned');
    expect(scheduler.pauseState().reason).toBe('banned');
    (await scheduler.acquire(1)).release();
    expect(performance.now() - pausedAt).toBeGreaterThanOrEqual(59);
    expect(scheduler.pauseState()).toEqual({ remainingMs: 0, reason: undefined });
    expect(scheduler.stats.banned).toBe(1);
  });

  it('in rolling mode counts any span of one window', async () => {
    const clock = createClock(Date.UTC(2024, 0, 1), SPEED);
    const scheduler = new RestScheduler({
      windows: [{ limit: 4, windowMs: 5000 }],
      mode: 'rolling',
      headroom: 1,
      maxConcurrency: 10,
      clock,
    });
    const grantedAt: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        (await scheduler.acquire(1)).release(0);
        grantedAt.push(clock.now());
      }),
    );
    clock.dispose();
    grantedAt.sort((a, b) => a - b);
    // Times are read just after each grant: allow one real millisecond of jitter.
    for (let i = 4; i < grantedAt.length; i++) {
      expect((grantedAt[i] as number) - (grantedAt[i - 4] as number)).toBeGreaterThanOrEqual(
        5000 - SPEED,
      );
    }
  });

  it('in rolling mode keeps the age of past reservations when the venue clock is learned', async () => {
    // A venue whose clock is years behind ours (the simulator's 2024): learning it must move
    // the log with it, not leave the reservations years in the future (a wait that never ends).
    const clock = createClock(Date.UTC(2026, 0, 1), SPEED);
    const scheduler = new RestScheduler({
      windows: [{ limit: 4, windowMs: 5000 }],
      mode: 'rolling',
      headroom: 1,
      maxConcurrency: 10,
      clock,
    });
    for (let i = 0; i < 4; i++) (await scheduler.acquire(1)).release(0);
    const fullAt = clock.now();
    scheduler.noteServerTime(Date.UTC(2024, 0, 1));
    const permit = await scheduler.acquire(1, AbortSignal.timeout(5000));
    permit.release(0);
    const grantedAt = clock.now();
    clock.dispose();
    // Still counted: the fifth grant waited for the window of the first four.
    expect(grantedAt - fullAt).toBeGreaterThanOrEqual(5000 - 2 * SPEED);
  });

  it('is shared per host, process-wide', () => {
    const options = { windows: [{ limit: 6000, windowMs: MINUTE }] };
    const a = sharedRestScheduler('test-host.example:1', options);
    const b = sharedRestScheduler(schedulerHost('http://TEST-HOST.example:1/api/v3/time'), options);
    expect(b).toBe(a);
    expect(sharedRestScheduler('test-host.example:2', options)).not.toBe(a);
  });
});

describe('getJson with a scheduler', () => {
  it('a 429 pauses every request to the host for its Retry-After', async () => {
    const sim = await startSimulator({ speed: 1 });
    try {
      const scheduler = new RestScheduler({ windows: [{ limit: 6000, windowMs: MINUTE }] });
      const seen: number[] = [];
      const scheduled = {
        scheduler,
        cost: 1,
        observe: (_s: RestScheduler, headers: Headers) =>
          seen.push(Number(headers.get('x-mbx-used-weight-1m'))),
      };
      sim.faults.failHttp(1, 429, { retryAfterSec: 1 });
      const start = performance.now();
      const first = getJson(`${sim.binance.restUrl}/api/v3/time`, {
        timeoutMs: 5000,
        scheduled,
      });
      const body = await first;
      expect(body.status).toBe(200);
      expect(scheduler.stats.rateLimited).toBe(1);
      expect(performance.now() - start).toBeGreaterThanOrEqual(990);
      expect(seen.length).toBe(2);
    } finally {
      await sim.close();
    }
  });
});
