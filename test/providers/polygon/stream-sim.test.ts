import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import type { MarketDataError } from '../../../src/core/errors.js';
import type { Interval, MarketData, StatusDetail } from '../../../src/core/types.js';
import { PolygonProvider } from '../../../src/providers/polygon/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { ohlcv } from './helpers.js';

const SIM_START = Date.UTC(2024, 2, 5, 15, 2, 30); // Tuesday 10:02:30 New York, mid-bucket

type Sim = Awaited<ReturnType<typeof startSimulator>>;

async function sim(speed: number): Promise<Sim> {
  const simulator = await startSimulator({
    seed: 7,
    speed,
    start: SIM_START,
    polygonTickers: ['AAPL', 'MSFT'],
  });
  onTestFinished(() => simulator.close());
  return simulator;
}

function provider(simulator: Sim, interval: Interval, extra: Record<string, unknown> = {}) {
  return new PolygonProvider({
    symbols: ['AAPL', 'MSFT'],
    interval,
    apiKey: simulator.polygon.apiKey,
    restBaseUrl: simulator.polygon.restUrl,
    wsBaseUrl: simulator.polygon.wsUrl.replace(/\/stocks$/, ''),
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    ...extra,
  });
}

interface Collected {
  bars: MarketData[];
  errors: MarketDataError[];
}

/** Reads until every symbol has `perSymbol` bars; `onBar` may inject faults. */
async function collect(
  polygon: PolygonProvider,
  perSymbol: number,
  onBar?: (bar: MarketData, count: number) => void,
): Promise<Collected> {
  const bars: MarketData[] = [];
  const errors: MarketDataError[] = [];
  const counts = new Map<string, number>();
  for await (const [bar, err] of polygon.stream()) {
    if (err) {
      errors.push(err);
      if (err.fatal) break;
      continue;
    }
    bars.push(bar);
    counts.set(bar.symbol, (counts.get(bar.symbol) ?? 0) + 1);
    onBar?.(bar, bars.length);
    if ([...counts.values()].filter((n) => n >= perSymbol).length === 2) break;
  }
  return { bars, errors };
}

/** The venue's own bars over the span we received, per symbol: the exact expected sequence. */
function expectExactly(
  simulator: Sim,
  bars: MarketData[],
  multiplier: number,
  timespan: 'second' | 'minute' | 'hour',
): void {
  for (const symbol of ['AAPL', 'MSFT']) {
    const got = bars.filter((b) => b.symbol === symbol);
    expect(got.length).toBeGreaterThan(1);
    const firstMs = got[0]?.time.getTime() ?? 0;
    const lastMs = got.at(-1)?.time.getTime() ?? 0;
    const expected = simulator.market.polygonBars(symbol, multiplier, timespan, firstMs, lastMs);
    expect(got.map((b) => b.time.getTime())).toEqual(expected.map((b) => b.openTimeMs));
    expect(got.map(ohlcv)).toEqual(expected.map(ohlcv));
  }
}

describe('PolygonProvider.stream against the simulator', () => {
  it('streams AM minute bars after auth and subscribe, reporting connected', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m');
    const statuses: [string, StatusDetail][] = [];
    polygon.setOnStatusChange((status, detail) => statuses.push([status, detail]));
    const { bars, errors } = await collect(polygon, 4);
    expect(errors).toEqual([]);
    expectExactly(simulator, bars, 1, 'minute');
    expect(statuses[0]).toEqual([
      'connected',
      { connection: 'polygon:stocks', symbols: ['AAPL', 'MSFT'] },
    ]);
    expect(statuses.at(-1)?.[0]).toBe('disconnected');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('streams A second bars for 1s', async () => {
    const simulator = await sim(600);
    const { bars, errors } = await collect(provider(simulator, '1s'), 20);
    expect(errors).toEqual([]);
    expectExactly(simulator, bars, 1, 'second');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('aggregates 5m bars that equal the venue’s 5m bars, first bucket included', async () => {
    const simulator = await sim(1200);
    const { bars, errors } = await collect(provider(simulator, '5m'), 3);
    expect(errors).toEqual([]);
    expect(bars[0]?.time.getTime()).toBe(Date.UTC(2024, 2, 5, 15, 0));
    expectExactly(simulator, bars, 5, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('aggregates 1h bars that equal the venue’s 1h bars', async () => {
    const simulator = await sim(3600);
    const { bars, errors } = await collect(provider(simulator, '1h'), 2);
    expect(errors).toEqual([]);
    expectExactly(simulator, bars, 1, 'hour');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('after forced disconnects, every minute appears once, in order (only no-trade minutes absent)', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m');
    let restBefore = 0;
    const { bars, errors } = await collect(polygon, 14, (_bar, count) => {
      if (count === 4 || count === 14) {
        // Refused for ~3-5 sim minutes (speed 600): those minutes can only come from REST.
        if (count === 4) restBefore = simulator.stats.httpRequests('polygon');
        simulator.faults.refuseConnections(count === 4 ? 400 : 250, 'polygon');
        simulator.faults.dropConnections('polygon');
      }
    });
    expect(errors.map((e) => [e.code, e.fatal])).toContainEqual(['DISCONNECTED', false]);
    expect(simulator.stats.httpRequests('polygon')).toBeGreaterThan(restBefore);

    expect(errors.every((e) => !e.fatal)).toBe(true);
    expect(simulator.stats.wsConnectionsOpened('polygon')).toBeGreaterThanOrEqual(3);
    expectExactly(simulator, bars, 1, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('malformed frames are non-fatal PROTOCOL errors and the minutes they carried come from REST', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m');
    const { bars, errors } = await collect(polygon, 12, (_bar, count) => {
      if (count === 4) simulator.faults.sendMalformed(2, 'polygon');
    });
    expect(errors.map((e) => [e.code, e.fatal])).toEqual([
      ['PROTOCOL', false],
      ['PROTOCOL', false],
    ]);
    expect(simulator.stats.wsConnectionsOpened('polygon')).toBe(1);
    expectExactly(simulator, bars, 1, 'minute');
  });

  it('a socket that goes silent (no data, no pongs) is replaced and the gap backfilled', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m', { silenceTimeoutMs: 300, pingIntervalMs: 100 });
    const { bars, errors } = await collect(polygon, 12, (_bar, count) => {
      if (count === 4) simulator.faults.goSilent('polygon');
    });
    expect(errors.map((e) => e.code)).toContain('DISCONNECTED');
    expect(errors.every((e) => !e.fatal)).toBe(true);
    expect(simulator.stats.wsConnectionsOpened('polygon')).toBeGreaterThanOrEqual(2);
    expectExactly(simulator, bars, 1, 'minute');
  });

  it('5m aggregation stays exact across a disconnect (backfilled minutes reach the buckets)', async () => {
    const simulator = await sim(1200);
    const polygon = provider(simulator, '5m');
    const { bars, errors } = await collect(polygon, 4, (_bar, count) => {
      if (count === 2) {
        simulator.faults.refuseConnections(400, 'polygon');
        simulator.faults.dropConnections('polygon');
      }
    });
    expect(errors.some((e) => e.code === 'DISCONNECTED')).toBe(true);
    expectExactly(simulator, bars, 5, 'minute');
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('explains max_connections when another client takes the key, then recovers', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m');
    let intruder: WebSocket | undefined;
    onTestFinished(() => intruder?.terminate());
    const { bars, errors } = await collect(polygon, 5, (_bar, count) => {
      if (count !== 2) return;
      intruder = new WebSocket(`${simulator.polygon.wsUrl}/stocks`);
      intruder.on('message', (data) => {
        if (String(data).includes('"connected"')) {
          intruder?.send(JSON.stringify({ action: 'auth', params: simulator.polygon.apiKey }));
        }
      });
    });
    const kicked = errors.find((e) => e.code === 'RATE_LIMITED');
    expect(kicked?.fatal).toBe(false);
    expect(kicked?.message).toMatch(/another client authenticated with the same key/);
    expect(kicked?.message).not.toContain(simulator.polygon.apiKey);
    expect(errors.every((e) => !e.fatal)).toBe(true);
    expectExactly(simulator, bars, 1, 'minute');
    intruder?.terminate();
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('a rejected key ends the stream with fatal AUTH_FAILED and no reconnect loop', async () => {
    const simulator = await sim(600);
    const badKey = 'BAD-key-0123456789';
    const polygon = provider(simulator, '1m', { apiKey: badKey });
    const { bars, errors } = await collect(polygon, 1);
    expect(bars).toEqual([]);
    expect(errors).toHaveLength(1);
    expect([errors[0]?.code, errors[0]?.fatal]).toEqual(['AUTH_FAILED', true]);
    expect(errors[0]?.message).not.toContain(badKey);
    expect(simulator.stats.wsConnectionsOpened('polygon')).toBe(1);
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('abort ends the iteration quietly and closes the socket', async () => {
    const simulator = await sim(600);
    const polygon = provider(simulator, '1m');
    const ac = new AbortController();
    const seen: unknown[] = [];
    for await (const item of polygon.stream(ac.signal)) {
      seen.push(item);
      ac.abort();
    }
    expect(seen).toHaveLength(1);
    await simulator.stats.untilOpenConnections(0, 'polygon');
  });

  it('never shows the key in errors, status reasons or stderr', async () => {
    const simulator = await sim(600);
    const key = simulator.polygon.apiKey;
    const polygon = provider(simulator, '1m');
    const texts: string[] = [];
    polygon.setOnStatusChange((status, detail) => texts.push(status, JSON.stringify(detail)));
    const writeStderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      texts.push(String(chunk));
      return writeStderr(chunk, ...rest);
    }) as typeof process.stderr.write;
    onTestFinished(() => {
      process.stderr.write = writeStderr;
    });
    const { errors } = await collect(polygon, 3, (_bar, count) => {
      if (count === 2) {
        simulator.faults.sendMalformed(1, 'polygon');
        simulator.faults.dropConnections('polygon');
      }
    });
    for (const error of errors) texts.push(error.message, String(error.stack), String(error.cause));
    expect(texts.length).toBeGreaterThan(3);
    for (const text of texts) expect(text).not.toContain(key);
  });
});
