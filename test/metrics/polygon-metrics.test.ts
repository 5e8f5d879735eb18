import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PolygonProvider } from '../../src/providers/polygon/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { counterValue, expectPromText } from './prom-text.js';

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

describe('Polygon REST metrics', () => {
  it('counts every REST attempt and a 429 of a download', async () => {
    const sim = await startSimulator({ seed: 7, speed: 1, start: Date.UTC(2024, 2, 6, 21) });
    onTestFinished(() => sim.close());
    const registry = new Registry();
    const polygon = new PolygonProvider({
      symbols: ['AAPL'],
      interval: '5m',
      apiKey: sim.polygon.apiKey,
      restBaseUrl: sim.polygon.restUrl,
      wsBaseUrl: sim.polygon.wsUrl.replace(/\/stocks$/, ''),
      metrics: registry,
    });
    const dir = mkdtempSync(join(tmpdir(), 'argo-polygon-metrics-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    polygon.configWriter(new DuckDBWriter(join(dir, 'aapl.parquet'), { metrics: registry }));
    sim.faults.failHttp(1, 429, { retryAfterSec: 1, venue: 'polygon' });
    await polygon.download({
      ticker: 'AAPL',
      startDate: new Date(Date.UTC(2024, 2, 4)),
      endDate: new Date(Date.UTC(2024, 2, 5)),
      multiplier: 5,
      timespan: 'minute',
    });
    const text = await registry.metrics();
    expectPromText(text);
    const seen = sim.stats.httpRequests('polygon');
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(counterValue(text, 'argo_rest_requests_total', 'venue="polygon"')).toBe(seen);
    expect(counterValue(text, 'argo_rest_rate_limited_total', 'venue="polygon"')).toBe(1);
    expect(counterValue(text, 'argo_writer_durable_bars_total')).toBeGreaterThan(0);
    expect(text).not.toContain(sim.polygon.apiKey);
  });
});
