import { describe, expect, it, onTestFinished } from 'vitest';
import { MAX_STREAM_URL_LENGTH } from '../../../src/providers/binance/protocol.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { binanceConnectionPlans } from '../../../src/providers/binance/stream.js';
import { startSimulator } from '../../../src/simulator/index.js';

const symbols = Array.from({ length: 600 }, (_, i) => `SIM${String(i).padStart(4, '0')}USDT`);

describe('Binance combined sockets with many symbols', () => {
  it('keeps the URL short and subscribes the rest after connecting', () => {
    const plans = binanceConnectionPlans(
      'wss://stream.binance.com:9443',
      symbols,
      '1m',
      'combined',
    );
    expect(plans).toHaveLength(1);
    const [plan] = plans;
    expect(plan?.url.length).toBeLessThanOrEqual(MAX_STREAM_URL_LENGTH);
    const inUrl = (plan?.url.split('=')[1] ?? '').split('/');
    expect([...inUrl, ...(plan?.subscribeAfterOpen ?? [])]).toEqual(
      symbols.map((s) => `${s.toLowerCase()}@kline_1m`),
    );
    expect(plan?.subscribeAfterOpen.length).toBeGreaterThan(0);
  });

  it('streams every one of 600 symbols on one socket', async () => {
    const sim = await startSimulator({
      seed: 3,
      speed: 600,
      start: Date.now() - 3_600_000,
      binanceSymbols: [],
      generatedBinanceSymbols: symbols.length,
    });
    onTestFinished(() => sim.close());
    const provider = new BinanceProvider({
      symbols,
      interval: '1m',
      connection: 'combined',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
    });
    const seen = new Set<string>();
    for await (const [bar, err] of provider.stream(AbortSignal.timeout(10_000))) {
      if (err) throw err;
      seen.add(bar.symbol);
      if (seen.size === symbols.length) break;
    }
    expect(seen.size).toBe(symbols.length);
    expect(sim.stats.wsConnectionsOpened('binance')).toBe(1);
    await sim.stats.untilOpenConnections(0, 'binance');
  });

  it('paces per-symbol sockets under the new-connection limit instead of being refused', async () => {
    // The client's window is a little longer than the exchange's: the slack a request needs
    // to arrive (see ConnectPacer.marginMs; on a busy test machine 2% of 600 ms is too little).
    const limit = { connections: 3, windowMs: 600 };
    const sim = await startSimulator({
      seed: 3,
      speed: 600,
      start: Date.now() - 3_600_000,
      binanceSymbols: [],
      generatedBinanceSymbols: 8,
      binanceConnectionLimit: { connections: limit.connections, windowMs: 450 },
    });
    onTestFinished(() => sim.close());
    const eight = symbols.slice(0, 8);
    const provider = new BinanceProvider({
      symbols: eight,
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      maxNewConnections: limit.connections,
      newConnectionWindowMs: limit.windowMs,
    });
    const waits: { connection: string; delayMs: number; reason: string }[] = [];
    provider.setOnStatusChange((status, detail) => {
      if (status === 'reconnecting' && detail.attempt === undefined) {
        waits.push({
          connection: detail.connection,
          delayMs: detail.delayMs ?? 0,
          reason: detail.reason ?? '',
        });
      }
    });
    const seen = new Set<string>();
    for await (const [bar, err] of provider.stream(AbortSignal.timeout(10_000))) {
      if (err) throw err;
      seen.add(bar.symbol);
      if (seen.size === eight.length) break;
    }
    expect(seen.size).toBe(eight.length);
    expect(sim.stats.wsConnectionsRefused('binance')).toBe(0);
    expect(sim.stats.wsConnectionsOpened('binance')).toBe(8);
    // Three connect at once, the other five wait for the window (two of them a second one).
    expect(waits).toHaveLength(5);
    expect(new Set(waits.map((w) => w.connection)).size).toBe(5);
    expect(Math.max(...waits.map((w) => w.delayMs))).toBeGreaterThan(limit.windowMs);
    expect(waits[0]?.reason).toMatch(/limit of 3 new connections per 0.6 s per IP/);
    await sim.stats.untilOpenConnections(0, 'binance');
  });
});
