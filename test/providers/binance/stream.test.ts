import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import type { ConnectionStatus, MarketData, StreamResult } from '../../../src/core/types.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { barsOf, errorCodes } from './helpers.js';

const MINUTE = 60_000;
type Sim = Awaited<ReturnType<typeof startSimulator>>;

async function simulator(options: { speed?: number } = {}): Promise<Sim> {
  // Speed 600: a 1m bar closes every 100 ms. The clock starts an hour back so REST has history.
  const sim = await startSimulator({
    seed: 7,
    speed: options.speed ?? 600,
    start: Date.now() - 3_600_000,
  });
  onTestFinished(() => sim.close());
  return sim;
}

function provider(sim: Sim, extra: Partial<ConstructorParameters<typeof BinanceProvider>[0]> = {}) {
  return new BinanceProvider({
    symbols: ['BTCUSDT', 'ETHUSDT'],
    interval: '1m',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    requestTimeoutMs: 2000,
    ...extra,
  });
}

/** Every closed bar between the first and last yielded of `symbol` appears once, in order, with the exchange's values. */
function expectExact(sim: Sim, results: StreamResult[], symbol: string): number {
  const got = barsOf(results, symbol);
  expect(got.length).toBeGreaterThan(1);
  const firstMs = got[0]?.openTimeMs ?? 0;
  const lastMs = got.at(-1)?.openTimeMs ?? 0;
  const expected = sim.market
    .binanceBars(symbol, '1m', firstMs, lastMs)
    .filter((b) => b.openTimeMs >= firstMs && b.openTimeMs <= lastMs)
    .map((b) => ({
      openTimeMs: b.openTimeMs,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
    }));
  expect(got).toEqual(expected);
  return got.length;
}

/** Run the stream until `done(results)`, calling `each` after every result. */
async function collect(
  stream: AsyncIterable<StreamResult>,
  done: (results: StreamResult[]) => boolean,
  each: (results: StreamResult[]) => void | Promise<void> = () => {},
): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  for await (const result of stream) {
    results.push(result);
    await each(results);
    if (done(results)) break;
  }
  return results;
}

const barCount = (results: StreamResult[], symbol: string) => barsOf(results, symbol).length;

describe('BinanceProvider.stream against the simulator', () => {
  it("runs the seed's example loop as written", async () => {
    const sim = await simulator();
    const client = provider(sim);
    const lines: string[] = [];
    const ac = new AbortController();
    for await (const [data, err] of client.stream(ac.signal)) {
      if (err) {
        lines.push(`stream error: ${err.message}`);
        break;
      }
      expectTypeOf(data).toEqualTypeOf<MarketData>();
      lines.push(
        `${data.symbol}: O=${data.open.toFixed(2)} H=${data.high.toFixed(2)} L=${data.low.toFixed(2)} C=${data.close.toFixed(2)} V=${data.volume.toFixed(2)}`,
      );
      if (lines.length === 6) break;
    }
    expect(lines).toHaveLength(6);
    expect(lines.every((line) => /^(BTCUSDT|ETHUSDT): O=\d+\.\d\d H=/.test(line))).toBe(true);
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it.each(['per-symbol', 'combined'] as const)(
    'streams 3 symbols exactly over %s sockets and reports status',
    async (connection) => {
      const sim = await simulator();
      const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT'];
      const client = provider(sim, { symbols, connection });
      const statuses: [ConnectionStatus, string[]][] = [];
      client.setOnStatusChange((status, detail) => statuses.push([status, detail.symbols]));
      const results = await collect(client.stream(), (r) =>
        symbols.every((s) => barCount(r, s) >= 5),
      );
      expect(errorCodes(results)).toEqual([]);
      for (const symbol of symbols) expectExact(sim, results, symbol);
      await sim.stats.untilOpenConnections(0, 'binance');
      const sockets = connection === 'combined' ? 1 : 3;
      expect(statuses.filter(([s]) => s === 'connected')).toHaveLength(sockets);
      expect(statuses.filter(([s]) => s === 'disconnected')).toHaveLength(sockets);
      expect(statuses.flatMap(([, s]) => s).sort()).toEqual([...symbols, ...symbols].sort());
      expect(sim.stats.wsConnectionsOpened('binance')).toBe(sockets);
    },
  );

  it.each(['per-symbol', 'combined'] as const)(
    'loses and repeats no bar across forced disconnects (%s), one while connections are refused',
    async (connection) => {
      const sim = await simulator();
      const client = provider(sim, { connection });
      const statuses: ConnectionStatus[] = [];
      client.setOnStatusChange((status) => statuses.push(status));
      let drops = 0;
      const results = await collect(
        client.stream(),
        (r) => drops === 3 && barCount(r, 'BTCUSDT') >= 14 && barCount(r, 'ETHUSDT') >= 14,
        (r) => {
          const n = barCount(r, 'BTCUSDT');
          if (drops === 0 && n >= 3) {
            drops += 1;
            sim.faults.dropConnections('binance');
          } else if (drops === 1 && n >= 6) {
            drops += 1;
            sim.faults.refuseConnections(400, 'binance');
            sim.faults.dropConnections('binance');
          } else if (drops === 2 && n >= 10) {
            drops += 1;
            sim.faults.dropConnections('binance');
          }
        },
      );
      expect(errorCodes(results).every((code) => code === 'DISCONNECTED:false')).toBe(true);
      expect(errorCodes(results).length).toBeGreaterThanOrEqual(3);
      expectExact(sim, results, 'BTCUSDT');
      expectExact(sim, results, 'ETHUSDT');
      expect(statuses).toContain('reconnecting');
      await sim.stats.untilOpenConnections(0, 'binance');
    },
  );

  it('treats a silent socket as dead, reconnects and backfills', async () => {
    const sim = await simulator();
    const client = provider(sim, {
      symbols: ['BTCUSDT'],
      silenceTimeoutMs: 300,
      pingIntervalMs: 100,
    });
    let silenced = false;
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTCUSDT') >= 8,
      (r) => {
        if (!silenced && barCount(r, 'BTCUSDT') >= 2) {
          silenced = true;
          sim.faults.goSilent('binance');
        }
      },
    );
    expect(errorCodes(results)).toEqual(['DISCONNECTED:false']);
    expect(results.find(([, e]) => e)?.[1]?.message).toContain('no data for 300 ms');
    expectExact(sim, results, 'BTCUSDT');
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('replaces the socket at once on serverShutdown, without an error or a lost bar', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['BTCUSDT'] });
    let announced = false;
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTCUSDT') >= 8,
      (r) => {
        if (!announced && barCount(r, 'BTCUSDT') >= 2) {
          announced = true;
          sim.faults.serverShutdown('binance');
        }
      },
    );
    expect(errorCodes(results)).toEqual([]);
    expectExact(sim, results, 'BTCUSDT');
    expect(sim.stats.wsConnectionsOpened('binance')).toBe(2);
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('rotates connections before their maximum age without losing or repeating a bar', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['BTCUSDT'], maxConnectionAgeMs: 4 * MINUTE });
    const results = await collect(client.stream(), (r) => barCount(r, 'BTCUSDT') >= 16);
    expect(errorCodes(results)).toEqual([]);
    expectExact(sim, results, 'BTCUSDT');
    expect(sim.stats.wsConnectionsOpened('binance')).toBeGreaterThanOrEqual(3);
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('reports malformed frames as non-fatal PROTOCOL errors and goes on', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['BTCUSDT'] });
    let sent = false;
    const results = await collect(
      client.stream(),
      (r) => sent && errorCodes(r).length >= 2 && barCount(r, 'BTCUSDT') >= 6,
      (r) => {
        if (!sent && barCount(r, 'BTCUSDT') >= 2) {
          sent = true;
          sim.faults.sendMalformed(2, 'binance');
        }
      },
    );
    expect(errorCodes(results)).toEqual(['PROTOCOL:false', 'PROTOCOL:false']);
    expectExact(sim, results, 'BTCUSDT');
  });

  it('ends with a fatal INVALID_SYMBOL naming the unknown symbols, before opening a socket', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['BTCUSDT', 'NOPEUSDT', 'ETHUSDT', 'XYZXYZ'] });
    const results = await collect(client.stream(), () => false);
    expect(errorCodes(results)).toEqual(['INVALID_SYMBOL:true']);
    expect(results[0]?.[1]?.message).toMatch(/^Binance does not list NOPEUSDT, XYZXYZ: /);
    expect(sim.stats.wsConnectionsOpened('binance')).toBe(0);
  });

  it('rejects a bad interval or symbol at construction with a ConfigError', async () => {
    const make = (options: Record<string, unknown>) => () =>
      new BinanceProvider({ symbols: ['BTCUSDT'], interval: '1m', ...options } as never);
    expect(make({ interval: '7m' })).toThrow(ConfigError);
    expect(make({ interval: '7m' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INTERVAL', field: 'interval' }),
    );
    expect(make({ symbols: ['BTC/USDT'] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'symbols.0' }),
    );
    expect(make({ connection: 'many' })).toThrow(expect.objectContaining({ field: 'connection' }));
  });

  it('ends quietly and closes every socket when the signal aborts', async () => {
    const sim = await simulator();
    const client = provider(sim, { connection: 'per-symbol' });
    const ac = new AbortController();
    const results = await collect(
      client.stream(ac.signal),
      () => false,
      (r) => {
        if (r.length === 3) ac.abort();
      },
    );
    expect(results).toHaveLength(3);
    expect(errorCodes(results)).toEqual([]);
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('keeps every bar, in order, for a consumer slower than the feed', async () => {
    const sim = await simulator({ speed: 3600 });
    const client = provider(sim, {
      symbols: ['BTCUSDT', 'ETHUSDT'],
      connection: 'combined',
      bufferSize: 2,
    });
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTCUSDT') >= 25,
      async (r) => {
        // Stall the consumer for five exchange minutes after a few bars, twice.
        if (r.length === 3 || r.length === 20) await sim.clock.until(sim.clock.now() + 5 * MINUTE);
      },
    );
    expect(errorCodes(results)).toEqual([]);
    expectExact(sim, results, 'BTCUSDT');
    expectExact(sim, results, 'ETHUSDT');
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('narrows [bar, err] in TypeScript', () => {
    const check = (result: StreamResult) => {
      const [bar, err] = result;
      if (err) return err.code;
      expectTypeOf(bar).toEqualTypeOf<MarketData>();
      return bar.symbol;
    };
    expect(check([undefined, new ConfigError('x', 'y')])).toBe('CONFIG_INVALID');
  });
});
