import { describe, expect, it } from 'vitest';
import { runSoak } from '../bench/soak.js';

// The short form of `npm run soak`: both providers under random faults, every closed bar
// yielded and stored exactly once, in order, with the exchange's values.
describe('soak (short)', () => {
  it('loses and duplicates nothing under random faults', { timeout: 60_000 }, async () => {
    const report = await runSoak({ durationMs: 20_000, symbols: 10, faultEveryMs: 1500, seed: 7 });
    const injected = Object.values(report.faults).reduce((sum, n) => sum + n, 0);
    expect(injected).toBeGreaterThanOrEqual(5);
    for (const venue of report.venues) {
      expect(venue.fatalError).toBeUndefined();
      expect(venue.bars).toBeGreaterThan(100);
      expect({ provider: venue.provider, lost: venue.lost, duplicated: venue.duplicated }).toEqual({
        provider: venue.provider,
        lost: 0,
        duplicated: 0,
      });
      expect(venue.wrongValues).toBe(0);
      expect(venue.outOfOrder).toBe(0);
      expect(venue.stored).toBe(venue.bars);
    }
    expect(report.venues.map((v) => v.provider)).toContain('bybit');
    expect(report.bybitBans).toBe(0);
    expect(report.ok).toBe(true);
  });
});
