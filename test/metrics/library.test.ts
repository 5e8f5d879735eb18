import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry, register } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  BinanceProvider,
  DEFAULT_MAX_SYMBOL_SERIES,
  StreamingDuckDBWriter,
  startMetricsServer,
} from '../../src/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import { counterValue, expectPromText } from './prom-text.js';

describe('metrics as a library', () => {
  it('a stream and a writer with `metrics` register only in the given registry, never the global one', async () => {
    expect(DEFAULT_MAX_SYMBOL_SERIES).toBe(1000);
    const sim = await startSimulator({ seed: 9, speed: 600, start: Date.now() - 3_600_000 });
    onTestFinished(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), 'argo-lib-metrics-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const registry = new Registry();
    const options = {
      interval: '1m' as const,
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      metrics: registry,
    };
    // Two providers on one registry share the families (no double registration).
    const first = new BinanceProvider({ ...options, symbols: ['BTCUSDT'] });
    const second = new BinanceProvider({ ...options, symbols: ['ETHUSDT'] });
    const writer = new StreamingDuckDBWriter(dir, 'binance', '1m', { metrics: registry });
    await writer.initialize();
    onTestFinished(() => writer.close());
    const server = await startMetricsServer({ registry, port: 0 });
    onTestFinished(() => server.close());
    const take = async (provider: BinanceProvider, count: number) => {
      let n = 0;
      for await (const [bar, err] of provider.stream(AbortSignal.timeout(15_000))) {
        if (err) continue;
        await writer.write(bar);
        if (++n === count) break;
      }
      return n;
    };
    const [a, b] = await Promise.all([take(first, 3), take(second, 2)]);
    expect([a, b]).toEqual([3, 2]);
    const text = await (await fetch(server.url)).text();
    expectPromText(text);
    expect(counterValue(text, 'argo_bars_total', 'symbol="BTCUSDT"')).toBe(3);
    expect(counterValue(text, 'argo_bars_total', 'symbol="ETHUSDT"')).toBe(2);
    expect(counterValue(text, 'argo_writer_durable_bars_total')).toBe(5);
    expect(counterValue(text, 'argo_rest_requests_total', 'venue="binance"')).toBeGreaterThan(0);
    expect(register.getMetricsAsArray()).toEqual([]);
    expect((await register.metrics()).trim()).toBe('');
  });
});
