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
});
