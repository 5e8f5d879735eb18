import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import type { ConnectionStatus, MarketData, StreamResult } from '../../../src/core/types.js';
import { BybitProvider } from '../../../src/providers/bybit/provider.js';
import { generatedBinanceSymbols } from '../../../src/simulator/catalog.js';
import { barsOf, errorCodes } from '../binance/helpers.js';
import { bybit, type Sim, simulator, truth } from './helpers.js';

const MINUTE = 60_000;

// Speed 600: a 1m bar closes every 100 ms; the clock starts an hour back so REST has history.
const fastSim = (extra: Parameters<typeof simulator>[0] = {}) =>
  simulator({ speed: 600, start: Date.now() - 3_600_000, ...extra });

async function collect(
  stream: AsyncIterable<StreamResult>,
  done: (results: StreamResult[]) => boolean,
  each: (results: StreamResult[]) => void = () => {},
): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  for await (const result of stream) {
    results.push(result);
    each(results);
    if (done(results)) break;
  }
  return results;
}

const count = (results: StreamResult[], symbol: string) => barsOf(results, symbol).length;

/** Every bar between the first and last yielded of `symbol` once, in order, with REST's values. */
function expectExact(sim: Sim, results: StreamResult[], symbol: string): number {
  const got = barsOf(results, symbol);
  expect(got.length).toBeGreaterThan(1);
  const firstMs = got[0]?.openTimeMs ?? 0;
  const lastMs = got.at(-1)?.openTimeMs ?? 0;
  expect(got).toEqual(truth(sim, symbol, '1m', firstMs, lastMs));
  return got.length;
}

describe('BybitProvider.stream against the simulator (PROTOCOLS.md §5.3)', () => {
  it('yields closed bars only, each once although the venue repeats some confirm:true pushes', async () => {
    const sim = await fastSim();
    const client = bybit(sim, { pingIntervalMs: 100 });
    const statuses: ConnectionStatus[] = [];
    client.setOnStatusChange((status) => statuses.push(status));
    // 20 minutes of bars per symbol: the simulator repeats the confirm of every 7th minute.
    const results = await collect(
      client.stream(),
      (r) => count(r, 'BTCUSDT') >= 20 && count(r, 'ETHUSDT') >= 20,
    );
    expect(errorCodes(results)).toEqual([]);
    expectExact(sim, results, 'BTCUSDT');
    expectExact(sim, results, 'ETHUSDT');
    const [bar] = results[0] ?? [];
    if (bar !== undefined) expectTypeOf(bar).toEqualTypeOf<MarketData>();
    expect(bar?.id).toBe(`${bar?.symbol}-1m-${bar?.time.getTime()}`);
    // Closed: each bar's minute had ended by the venue clock when it was yielded.
    for (const [b] of results)
      if (b) expect(b.time.getTime() + MINUTE).toBeLessThanOrEqual(sim.clock.now());
    await sim.stats.untilOpenConnections(0, 'bybit');
    expect(statuses).toEqual(['connected', 'disconnected']);
  });

  it('backfills exactly over REST across forced disconnects', async () => {
    const sim = await fastSim();
    const client = bybit(sim);
    const statuses: ConnectionStatus[] = [];
    client.setOnStatusChange((status) => statuses.push(status));
    let drops = 0;
    const results = await collect(
      client.stream(),
      (r) => drops === 2 && count(r, 'BTCUSDT') >= 16 && count(r, 'ETHUSDT') >= 16,
      (r) => {
        const n = count(r, 'BTCUSDT');
        if ((drops === 0 && n >= 3) || (drops === 1 && n >= 8)) {
          drops++;
          if (drops === 2) sim.faults.refuseConnections(300, 'bybit');
          sim.faults.dropConnections('bybit');
        }
      },
    );
    expect(results.every(([, err]) => err === undefined || !err.fatal)).toBe(true);
    expectExact(sim, results, 'BTCUSDT');
    expectExact(sim, results, 'ETHUSDT');
    expect(statuses.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(2);
    expect(sim.stats.wsConnectionsOpened('bybit')).toBeGreaterThanOrEqual(3);
  });

  it('backfills an outage longer than one REST page (1000 bars) exactly', async () => {
    // Clock 60,000×: 1,000 1m bars per real second; 2 s refused ≈ 2,000 missed bars.
    const sim = await fastSim({ speed: 60_000, start: Date.now() - 30 * 24 * 3_600_000 });
    const client = bybit(sim, { symbols: ['BTCUSDT'], reconnectInitialDelayMs: 2000 });
    let dropped = false;
    const results = await collect(
      client.stream(),
      (r) => dropped && count(r, 'BTCUSDT') >= 3000,
      (r) => {
        if (!dropped && count(r, 'BTCUSDT') >= 5) {
          dropped = true;
          sim.faults.refuseConnections(2000, 'bybit');
          sim.faults.dropConnections('bybit');
        }
      },
    );
    expect(results.every(([, err]) => err === undefined || !err.fatal)).toBe(true);
    expectExact(sim, results, 'BTCUSDT');
  }, 30_000);

  it('recovers from a silent socket and from malformed pushes without losing a bar', async () => {
    const sim = await fastSim();
    const client = bybit(sim, { silenceTimeoutMs: 300, pingIntervalMs: 100 });
    let step = 0;
    const results = await collect(
      client.stream(),
      (r) => step === 2 && count(r, 'BTCUSDT') >= 16,
      (r) => {
        const n = count(r, 'BTCUSDT');
        if (step === 0 && n >= 3) {
          step = 1;
          sim.faults.goSilent('bybit');
        } else if (step === 1 && n >= 8) {
          step = 2;
          sim.faults.sendMalformed(3, 'bybit');
        }
      },
    );
    expect(errorCodes(results).filter((c) => c.endsWith(':true'))).toEqual([]);
    expect(errorCodes(results)).toContain('PROTOCOL:false');
    expectExact(sim, results, 'BTCUSDT');
    expectExact(sim, results, 'ETHUSDT');
  });

  it('subscribes 25 symbols in requests of at most 10 topics on one socket', async () => {
    const symbols = generatedBinanceSymbols(25);
    const sim = await fastSim({ generatedBinanceSymbols: 25 });
    const client = bybit(sim, { symbols });
    const results = await collect(client.stream(), (r) => symbols.every((s) => count(r, s) >= 2));
    // The simulator refuses a request of more than 10 args: every symbol streaming proves it.
    expect(errorCodes(results)).toEqual([]);
    expect(sim.stats.wsConnectionsOpened('bybit')).toBe(1);
  });

  it('hands the forming bar to setOnFormingBar and never yields it', async () => {
    const sim = await simulator({ speed: 60, start: Date.now() - 3_600_000 });
    const client = bybit(sim, { symbols: ['BTCUSDT'] });
    const forming: Array<{ openMs: number; heardAtMs: number }> = [];
    client.setOnFormingBar((bar) =>
      forming.push({ openMs: bar.time.getTime(), heardAtMs: sim.clock.now() }),
    );
    const results = await collect(client.stream(), (r) => count(r, 'BTCUSDT') >= 2);
    expect(errorCodes(results)).toEqual([]);
    expect(forming.length).toBeGreaterThanOrEqual(3);
    // Each one was still open when heard (a push in flight across a minute's end may be one
    // minute old), while every yielded bar had closed.
    for (const { openMs, heardAtMs } of forming) {
      expect(openMs + 2 * MINUTE).toBeGreaterThan(heardAtMs);
    }
    expect(forming.filter((f) => f.openMs + MINUTE > f.heardAtMs).length).toBeGreaterThan(
      forming.length / 2,
    );
    expectExact(sim, results, 'BTCUSDT');
  });

  it('ends with a fatal INVALID_SYMBOL before any socket for an unknown symbol', async () => {
    const sim = await fastSim();
    const client = bybit(sim, { symbols: ['BTCUSDT', 'NOPEUSDT'] });
    const results = await collect(client.stream(), () => false);
    expect(errorCodes(results)).toEqual(['INVALID_SYMBOL:true']);
    expect(results[0]?.[1]?.message).toContain('NOPEUSDT');
    expect(results[0]?.[1]?.message).not.toContain('BTCUSDT,');
    expect(sim.stats.wsConnectionsOpened('bybit')).toBe(0);
  });

  it.each(['1s', '8h', '3d'])(
    'refuses %s with INVALID_INTERVAL naming what Bybit has',
    (interval) => {
      const make = () => new BybitProvider({ symbols: ['BTCUSDT'], interval: interval as '1m' });
      expect(make).toThrow(ConfigError);
      try {
        make();
      } catch (error) {
        expect((error as ConfigError).code).toBe('INVALID_INTERVAL');
        expect((error as ConfigError).field).toBe('interval');
        expect((error as Error).message).toContain(
          '1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 1w, 1M',
        );
      }
    },
  );
});
