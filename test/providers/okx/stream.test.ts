import { describe, expect, it, onTestFinished } from 'vitest';
import type { ConnectionStatus, MarketData, StreamResult } from '../../../src/core/types.js';
import { OkxProvider } from '../../../src/providers/okx/provider.js';
import { type SimulatorOptions, startSimulator } from '../../../src/simulator/index.js';
import { barsOf, errorCodes } from '../binance/helpers.js';

const MINUTE = 60_000;
type Sim = Awaited<ReturnType<typeof startSimulator>>;
const MARKET: Record<string, string> = { 'BTC-USDT': 'BTCUSDT', 'ETH-USDT': 'ETHUSDT' };

async function simulator(options: SimulatorOptions = {}): Promise<Sim> {
  // Speed 600: a 1m bar closes every 100 ms. The clock starts an hour back so REST has history.
  const sim = await startSimulator({
    seed: 7,
    speed: 600,
    start: Date.now() - 3_600_000,
    ...options,
  });
  onTestFinished(() => sim.close());
  return sim;
}

function provider(sim: Sim, extra: Partial<ConstructorParameters<typeof OkxProvider>[0]> = {}) {
  return new OkxProvider({
    symbols: ['BTC-USDT', 'ETH-USDT'],
    interval: '1m',
    restBaseUrl: sim.okx.restUrl,
    wsBaseUrl: sim.okx.wsUrl,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    requestTimeoutMs: 2000,
    ...extra,
  });
}

/** Every closed bar between the first and last yielded appears once, in order, with the venue's values. */
function expectExact(sim: Sim, results: StreamResult[], instId: string): number {
  const got = barsOf(results, instId);
  expect(got.length).toBeGreaterThan(1);
  const firstMs = got[0]?.openTimeMs ?? 0;
  const lastMs = got.at(-1)?.openTimeMs ?? 0;
  const expected = sim.market
    .binanceBars(MARKET[instId] as string, '1m', firstMs, lastMs)
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

const barCount = (results: StreamResult[], instId: string) => barsOf(results, instId).length;

describe('OkxProvider.stream against the simulator', () => {
  it('streams closed bars of two instruments on one business socket and reports status', async () => {
    const sim = await simulator();
    const client = provider(sim);
    const statuses: ConnectionStatus[] = [];
    client.setOnStatusChange((status) => statuses.push(status));
    const results = await collect(client.stream(), (r) =>
      ['BTC-USDT', 'ETH-USDT'].every((s) => barCount(r, s) >= 5),
    );
    expect(errorCodes(results)).toEqual([]);
    expectExact(sim, results, 'BTC-USDT');
    expectExact(sim, results, 'ETH-USDT');
    const first = results[0]?.[0] as MarketData;
    expect(first.id).toBe(`${first.symbol}-1m-${first.time.getTime()}`);
    await sim.stats.untilOpenConnections(0, 'okx');
    expect(statuses).toEqual(['connected', 'disconnected']);
    expect(sim.stats.wsConnectionsOpened('okx')).toBe(1);
  });

  it('loses and repeats no bar across a drop while connections are refused (REST backfill)', async () => {
    const sim = await simulator();
    const client = provider(sim);
    let dropped = false;
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTC-USDT') >= 14 && barCount(r, 'ETH-USDT') >= 14,
      (r) => {
        if (!dropped && barCount(r, 'BTC-USDT') === 3) {
          dropped = true;
          // 600 ms refused at speed 600 ≈ 6 bars that only REST can give back.
          sim.faults.refuseConnections(600, 'okx');
          sim.faults.dropConnections('okx');
        }
      },
    );
    expect(errorCodes(results).every((c) => c.endsWith(':false'))).toBe(true);
    expect(errorCodes(results).length).toBeGreaterThan(0);
    expectExact(sim, results, 'BTC-USDT');
    expectExact(sim, results, 'ETH-USDT');
    expect(sim.stats.wsConnectionsOpened('okx')).toBeGreaterThanOrEqual(2);
  });

  it('replaces a socket gone silent (no pushes, no pongs) and backfills the gap exactly', async () => {
    const sim = await simulator();
    const client = provider(sim, {
      symbols: ['BTC-USDT'],
      silenceTimeoutMs: 300,
      pingIntervalMs: 100,
    });
    let silenced = false;
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTC-USDT') >= 10,
      (r) => {
        if (!silenced && barCount(r, 'BTC-USDT') === 2) {
          silenced = true;
          sim.faults.goSilent('okx');
        }
      },
    );
    expectExact(sim, results, 'BTC-USDT');
    expect(sim.stats.wsConnectionsOpened('okx')).toBeGreaterThanOrEqual(2);
  });

  it('skips malformed frames with PROTOCOL errors and backfills what they carried', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['BTC-USDT'] });
    let sent = false;
    const results = await collect(
      client.stream(),
      (r) => barCount(r, 'BTC-USDT') >= 10,
      (r) => {
        if (!sent && barCount(r, 'BTC-USDT') === 2) {
          sent = true;
          sim.faults.sendMalformed(3, 'okx');
        }
      },
    );
    expect(errorCodes(results).filter((c) => c === 'PROTOCOL:false').length).toBeGreaterThan(0);
    expectExact(sim, results, 'BTC-USDT');
  });

  it('pings with the text "ping", so the 30 s idle close (4004) never comes', async () => {
    // Speed 0.01: no bar and no push for 100 s, so only pings keep the socket open.
    const sim = await simulator({ speed: 0.01, start: Date.now(), okxIdleCloseMs: 300 });
    const client = provider(sim, { symbols: ['BTC-USDT'], pingIntervalMs: 100 });
    const ac = new AbortController();
    const statuses: ConnectionStatus[] = [];
    client.setOnStatusChange((status) => statuses.push(status));
    const run = collect(client.stream(ac.signal), () => false);
    try {
      // 12 pings 100 ms apart span four idle windows.
      await sim.okx.untilPings(12, 5000);
    } finally {
      ac.abort();
    }
    expect(errorCodes(await run)).toEqual([]);
    expect(sim.stats.wsConnectionsOpened('okx')).toBe(1);
    expect(statuses).toEqual(['connected', 'disconnected']);
  });

  it('refuses an unknown (51001) or suspended instrument with INVALID_SYMBOL before any socket', async () => {
    const sim = await simulator();
    for (const symbols of [['BTC-USDT', 'NOPE-USDT'], ['HALT-USDT']]) {
      const results = await collect(provider(sim, { symbols }).stream(), () => false);
      expect(errorCodes(results)).toEqual(['INVALID_SYMBOL:true']);
      expect(results[0]?.[1]?.message).toMatch(symbols.at(-1) as string);
    }
    expect(sim.stats.wsConnectionsOpened('okx')).toBe(0);
  });

  it('hands the forming bar (confirm "0") to setOnFormingBar, never to the consumer', async () => {
    const sim = await simulator();
    const client = provider(sim, { symbols: ['ETH-USDT'] });
    const forming: MarketData[] = [];
    client.setOnFormingBar((bar) => forming.push(bar));
    const results = await collect(client.stream(), (r) => barCount(r, 'ETH-USDT') >= 4);
    expectExact(sim, results, 'ETH-USDT');
    // A yielded bar was heard forming first, with less volume than its final value.
    const finals = barsOf(results, 'ETH-USDT').slice(1);
    const partial = finals.filter((bar) =>
      forming.some((f) => f.time.getTime() === bar.openTimeMs && f.volume < bar.volume),
    );
    expect(partial.length).toBeGreaterThan(0);
    for (const f of forming) expect(f.time.getTime() % MINUTE).toBe(0);
  });
});
