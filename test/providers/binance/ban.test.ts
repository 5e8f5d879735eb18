import { describe, expect, it, onTestFinished } from 'vitest';
import type { StreamResult } from '../../../src/core/types.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { barsOf, errorCodes } from './helpers.js';

// Issue 14 point 2: a 418 during a backfill does not end the stream. The live socket goes on,
// the ban is yielded once (non-fatal, with its end), REST waits it out, and the gap is filled.

const symbols = ['BTCUSDT', 'ETHUSDT'];

describe('Binance stream through a 418 ban', () => {
  it('yields one non-fatal IP_BANNED, keeps streaming and backfills after the ban', async () => {
    // Speed 600: a 1m bar closes every 100 real ms; the 1 s ban spans about ten bars.
    const sim = await startSimulator({ seed: 7, speed: 600, start: Date.now() - 3_600_000 });
    onTestFinished(() => sim.close());
    const provider = new BinanceProvider({
      symbols,
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 200,
      requestTimeoutMs: 2000,
    });
    const results: StreamResult[] = [];
    let faulted = false;
    let bannedAtBars = 0;
    for await (const result of provider.stream(AbortSignal.timeout(12_000))) {
      results.push(result);
      const counts = symbols.map((s) => barsOf(results, s).length);
      if (!faulted && Math.min(...counts) >= 2) {
        faulted = true;
        // The next REST request (the reconnect's server-time read) is answered 418.
        sim.faults.failHttp(1, 418, { retryAfterSec: 1, venue: 'binance' });
        sim.faults.dropConnections('binance');
      }
      if (result[1]?.code === 'IP_BANNED') bannedAtBars = Math.min(...counts);
      if (bannedAtBars > 0 && Math.min(...counts) >= bannedAtBars + 15) break;
    }
    const codes = errorCodes(results);
    expect(codes.filter((c) => c.startsWith('IP_BANNED'))).toEqual(['IP_BANNED:false']);
    expect(codes.every((c) => c === 'DISCONNECTED:false' || c === 'IP_BANNED:false')).toBe(true);
    const ban = results.find(([, e]) => e?.code === 'IP_BANNED')?.[1];
    expect(ban?.message).toMatch(/until \d{4}-\d\d-\d\dT/);
    expect(ban?.message).toContain('REST is paused until the ban ends');
    for (const symbol of symbols) {
      const got = barsOf(results, symbol);
      const first = got[0]?.openTimeMs ?? 0;
      const last = got.at(-1)?.openTimeMs ?? 0;
      const expected = sim.market
        .binanceBars(symbol, '1m', first, last)
        .filter((b) => b.openTimeMs >= first && b.openTimeMs <= last)
        .map((b) => b.openTimeMs);
      // Every bar once, in order, across the drop and the ban.
      expect(got.map((b) => b.openTimeMs)).toEqual(expected);
    }
    await sim.stats.untilOpenConnections(0, 'binance');
  });
});
