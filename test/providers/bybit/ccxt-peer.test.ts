// A client we did not write reads the simulator's Bybit REST candles: ccxt's own raw endpoint
// call and its own row parser must agree bar for bar with our provider's download.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ccxt from 'ccxt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MemoryWriter } from '../../helpers/memory-writer.js';
import { bybit, simulator } from './helpers.js';

const HOUR = 3_600_000;

describe('ccxt.bybit against the Bybit simulator (PROTOCOLS.md §5.2)', () => {
  it('agrees bar for bar with BybitProvider.download over 1,200 hourly bars', async () => {
    const sim = await simulator({ speed: 1, start: Date.UTC(2024, 5, 1) });
    const fromMs = Date.UTC(2024, 0, 1);
    const toMs = fromMs + 1199 * HOUR;

    const exchange = new ccxt.bybit({ enableRateLimit: false });
    // Every API family at the simulator: no request can leave 127.0.0.1. Raw endpoint calls do
    // not load markets, so nothing is fetched from the real host.
    const base = sim.bybit.restUrl;
    exchange.urls.api = { spot: base, futures: base, v2: base, public: base, private: base };
    const rows: unknown[] = [];
    // ccxt's raw call, paged as its fetchOHLCV would: newest first, ≤ 1000 per call.
    for (let endMs = toMs; endMs >= fromMs; ) {
      const answer = (await exchange.publicGetV5MarketKline({
        category: 'spot',
        symbol: 'BTCUSDT',
        interval: '60',
        start: fromMs,
        end: endMs,
        limit: 1000,
      })) as { retCode: string; result: { list: string[][] } };
      expect(String(answer.retCode)).toBe('0');
      const list = answer.result.list;
      if (list.length === 0) break;
      rows.push(...list);
      endMs = Number(list.at(-1)?.[0]) - HOUR;
    }
    const theirs = exchange.parseOHLCVs(rows as never, undefined, '1h');

    const dir = mkdtempSync(join(tmpdir(), 'argo-bybit-ccxt-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const writer = new MemoryWriter(join(dir, 'ours.json'));
    const provider = bybit(sim, { symbols: ['BTCUSDT'], interval: '1h' });
    provider.configWriter(writer);
    await provider.download({
      ticker: 'BTCUSDT',
      startDate: new Date(fromMs),
      endDate: new Date(toMs),
    });
    const ours = writer.rows.map((b) => [
      b.time.getTime(),
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
    ]);
    expect(ours).toHaveLength(1200);
    expect(theirs).toEqual(ours);
    expect(sim.stats.httpRequests('bybit')).toBeGreaterThan(2);
  });
});
