import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs } from '../../src/stream/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles the ceiling per attempt up to the cap (full jitter: random in [0, ceiling))', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, 100, 1000, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelayMs(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelayMs(3, 100, 1000, () => 0.5)).toBe(200);
  });

  it('does not overflow for huge attempt numbers', () => {
    expect(backoffDelayMs(10_000, 500, 30_000, () => 0.5)).toBe(15_000);
  });
});

describe('Backoff', () => {
  it('counts consecutive failures, resets on success and enforces the budget', () => {
    const backoff = new Backoff(10, 100, 2, () => 0.5);
    expect(backoff.nextDelayMs()).toBe(5);
    expect(backoff.nextDelayMs()).toBe(10);
    expect(backoff.nextDelayMs()).toBeUndefined();
    expect(backoff.attempt).toBe(3);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.nextDelayMs()).toBe(5);
  });

  it('is unlimited without a budget', () => {
    const backoff = new Backoff(10, 100, undefined, () => 0.5);
    for (let i = 0; i < 1000; i += 1) expect(backoff.nextDelayMs()).toBeTypeOf('number');
  });
});
