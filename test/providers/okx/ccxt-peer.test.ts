// A client we did not write reads our simulator's OKX REST: ccxt's okx class (devDependency,
// its raw endpoint calls, URLs pointed at 127.0.0.1; no internet), as a check of the
// simulator's fidelity, and bar for bar against our provider's download.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OkxProvider } from '../../../src/providers/okx/provider.js';
import { type Simulator, startSimulator } from '../../../src/simulator/index.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';

const MINUTE = 60_000;
const NOW_MS = Date.UTC(2024, 5, 1, 12, 0, 30);
let sim: Simulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 21, speed: 1, start: NOW_MS });
  dir = mkdtempSync(join(tmpdir(), 'argo-okx-ccxt-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** ccxt's okx with every REST URL on the simulator (its URLs are `https://{hostname}`). */
function ccxtOkx(): InstanceType<typeof ccxt.okx> {
  const exchange = new ccxt.okx({ enableRateLimit: false, timeout: 5000 });
  exchange.urls.api = { rest: sim.okx.restUrl };
  return exchange;
}

type Row = [number, number, number, number, number, number];

/**
 * Pages history-candles backwards with `after` the way ccxt users do (PROTOCOLS.md §6.2:
 * newest first, `after` exclusive), then keeps `[fromMs, toMs]` ascending.
 */
async function ccxtHistory(instId: string, bar: string, fromMs: number, toMs: number) {
  const exchange = ccxtOkx();
  const rows: Row[] = [];
  let after = toMs + 1;
  for (;;) {
    const response = (await exchange.publicGetMarketHistoryCandles({
      instId,
      bar,
      after: String(after),
      limit: '100',
    })) as { code: string; data: string[][] };
    expect(response.code).toBe('0');
    if (response.data.length === 0) break;
    for (const r of exchange.parseOHLCVs(response.data)) rows.push(r as Row);
    after = Number(response.data.at(-1)?.[0]);
    if (after <= fromMs) break;
  }
  return rows.filter((r) => r[0] >= fromMs && r[0] <= toMs).sort((a, b) => a[0] - b[0]);
}

describe('ccxt.okx against the simulator (raw endpoint calls)', () => {
  it('reads history-candles that agree bar for bar with OkxProvider.download', async () => {
    const fromMs = Date.UTC(2024, 4, 20);
    const toMs = fromMs + 2 * 24 * 60 * MINUTE - MINUTE;
    const provider = new OkxProvider({
      symbols: ['ETH-USDT'],
      interval: '5m',
      restBaseUrl: sim.okx.restUrl,
      wsBaseUrl: sim.okx.wsUrl,
    });
    const writer = new MemoryWriter(join(dir, 'eth.json'));
    provider.configWriter(writer);
    await provider.download({
      ticker: 'ETH-USDT',
      startDate: new Date(fromMs),
      endDate: new Date(toMs),
      multiplier: 5,
      timespan: 'minute',
    });
    const ours: Row[] = writer.rows.map((b) => [
      b.time.getTime(),
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
    ]);
    expect(ours).toHaveLength(576);
    expect(await ccxtHistory('ETH-USDT', '5m', fromMs, toMs)).toEqual(ours);
  });

  it('reads candles newest first with the forming bar, and its parse agrees with the market', async () => {
    const exchange = ccxtOkx();
    const response = (await exchange.publicGetMarketCandles({
      instId: 'BTC-USDT',
      bar: '1m',
      limit: '10',
    })) as { code: string; data: string[][] };
    expect(response.data).toHaveLength(10);
    expect(response.data[0]?.[8]).toBe('0');
    const rows = exchange.parseOHLCVs(response.data) as Row[];
    // ccxt sorts ascending; drop the forming (last) one and compare with the ground truth.
    const closed = rows.slice(0, -1);
    const truth = sim.market
      .binanceBars('BTCUSDT', '1m', closed[0]?.[0] as number, closed.at(-1)?.[0] as number)
      .map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume]);
    expect(closed).toEqual(truth);
  });

  it("maps the simulator's errors to ccxt's own classes (51001 BadSymbol, 50011 RateLimitExceeded)", async () => {
    const exchange = ccxtOkx();
    await expect(
      exchange.publicGetMarketCandles({ instId: 'NOPE-USDT', bar: '1m' }),
    ).rejects.toBeInstanceOf(ccxt.BadSymbol);
    sim.faults.failHttp(1, 429, { venue: 'okx' });
    await expect(
      exchange.publicGetMarketCandles({ instId: 'BTC-USDT', bar: '1m' }),
    ).rejects.toBeInstanceOf(ccxt.RateLimitExceeded);
  });
});
