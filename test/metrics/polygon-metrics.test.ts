import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PolygonProvider } from '../../src/providers/polygon/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { counterValue } from './prom-text.js';

const SIM_START = Date.UTC(2024, 2, 5, 15, 2, 30); // Tuesday 10:02:30 New York, mid-bucket

describe('Polygon metrics above 1m', () => {
  it('argo_bars_total counts the 5m bars yielded, not the minutes they were built from', async () => {
    const sim = await startSimulator({
      seed: 7,
      speed: 1200,
      start: SIM_START,
      polygonTickers: ['AAPL', 'MSFT'],
    });
    onTestFinished(() => sim.close());
    const registry = new Registry();
    const polygon = new PolygonProvider({
      symbols: ['AAPL', 'MSFT'],
      interval: '5m',
      apiKey: sim.polygon.apiKey,
      restBaseUrl: sim.polygon.restUrl,
      wsBaseUrl: sim.polygon.wsUrl.replace(/\/stocks$/, ''),
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 200,
      metrics: registry,
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 30_000);
    onTestFinished(() => clearTimeout(timer));
    let yielded = 0;
    for await (const [bar, err] of polygon.stream(ac.signal)) {
      if (err) {
        expect(err.fatal).toBe(false);
        continue;
      }
      expect(bar.time.getTime() % 300_000).toBe(0);
      yielded += 1;
      if (yielded === 4) break;
    }
    expect(ac.signal.aborted).toBe(false);
    const text = await registry.metrics();
    expect(counterValue(text, 'argo_bars_total')).toBe(4);
    expect(text).toMatch(/argo_bars_total\{venue="polygon",interval="5m",symbol="AAPL"\} [12]/);
    expect(await polygon.streamMetrics?.barCount()).toBe(4);
  });
});
