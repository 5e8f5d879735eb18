import { describe, expect, it } from 'vitest';
import { runOkxSoak } from '../bench/soak.js';

// The short form of the OKX leg of `npm run soak`: every closed bar yielded and stored exactly
// once, in order, with the venue's values, under random faults; OKX's limits never refused.
describe('soak, OKX leg (short)', () => {
  it('loses and duplicates nothing under random faults', { timeout: 60_000 }, async () => {
    const report = await runOkxSoak({
      durationMs: 20_000,
      symbols: 10,
      faultEveryMs: 1500,
      seed: 7,
    });
    const injected = Object.values(report.faults).reduce((sum, n) => sum + n, 0);
    expect(injected).toBeGreaterThanOrEqual(5);
    expect(report.fatalError).toBeUndefined();
    expect(report.bars).toBeGreaterThan(100);
    expect({
      lost: report.lost,
      duplicated: report.duplicated,
      examples: report.lostExamples,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      examples: [],
    });
    expect(report.wrongValues).toBe(0);
    expect(report.outOfOrder).toBe(0);
    expect(report.stored).toBe(report.bars);
    expect(report.rateLimited).toBe(0);
    expect(report.ok).toBe(true);
  });
});
