import { describe, expect, it } from 'vitest';
import {
  nextWindowStartLocalMs,
  usedWeightFromHeaders,
  WeightBudget,
} from '../../src/http/weight-budget.js';

describe('usedWeightFromHeaders', () => {
  it('reads -1M, -1m and the unsuffixed header, preferring the minute one', () => {
    expect(usedWeightFromHeaders(new Headers({ 'X-MBX-USED-WEIGHT-1M': '42' }))).toBe(42);
    expect(
      usedWeightFromHeaders(new Headers({ 'x-mbx-used-weight-1m': '7', 'X-MBX-USED-WEIGHT': '9' })),
    ).toBe(7);
    expect(usedWeightFromHeaders(new Headers({ 'X-MBX-USED-WEIGHT': '9' }))).toBe(9);
    expect(usedWeightFromHeaders(new Headers({ 'X-MBX-USED-WEIGHT-1H': '9' }))).toBeUndefined();
    expect(usedWeightFromHeaders(new Headers({ 'X-MBX-USED-WEIGHT-1M': 'x' }))).toBeUndefined();
  });
});

describe('nextWindowStartLocalMs', () => {
  it('waits until the server clock reaches the next minute, plus the Date resolution', () => {
    const serverMs = Date.UTC(2024, 0, 1, 0, 0, 45);
    expect(nextWindowStartLocalMs(1_000_000, serverMs)).toBe(1_000_000 + 15_000 + 1000);
  });

  it('uses the local minute without a Date header', () => {
    expect(nextWindowStartLocalMs(90_000, Number.NaN)).toBe(120_000);
  });
});

describe('WeightBudget', () => {
  const at = (used: number, second: number) =>
    new Headers({
      'x-mbx-used-weight-1m': String(used),
      date: new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toUTCString(),
    });

  it('lets requests through below 80% and waits for the next window above it', () => {
    const budget = new WeightBudget(1000);
    budget.observe(at(799, 50), 0);
    expect(budget.delayMs(0)).toBe(0);
    budget.observe(at(800, 50), 0);
    expect(budget.delayMs(0)).toBe(11_000);
    expect(budget.delayMs(11_000)).toBe(0);
  });

  it('adopts the limit published by the exchange', () => {
    const budget = new WeightBudget(6000);
    budget.setLimit(100);
    budget.observe(at(85, 30), 0);
    expect(budget.delayMs(0)).toBe(31_000);
  });
});
