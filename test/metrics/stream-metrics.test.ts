import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ConnectionStatus } from '../../src/core/types.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { counterValue, expectPromText } from './prom-text.js';

describe('metrics during a simulator run with a dropped connection', () => {
  it('counts one reconnect and every yielded bar; /healthz is 503 during the outage, 200 after', async () => {
    const sim = await startSimulator({ seed: 7, speed: 600, start: Date.now() - 3_600_000 });
    onTestFinished(() => sim.close());
    const registry = new Registry();
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT', 'ETHUSDT'],
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 200,
      requestTimeoutMs: 2000,
      connection: 'combined', // one socket: one drop is one reconnect
      metrics: registry,
    });
    const health = provider.streamMetrics?.health;
    expect(health).toBeDefined();
    const server = await startMetricsServer({
      registry,
      port: 0,
      health: () => health!.report(),
    });
    onTestFinished(() => server.close());
    const base = server.url.replace(/\/metrics$/, '');
    const healthz = async () => {
      const res = await fetch(`${base}/healthz`);
      return { status: res.status, body: (await res.json()) as { reasons: string[] } };
    };

    const statuses: ConnectionStatus[] = [];
    let duringOutage: Promise<{ status: number; body: { reasons: string[] } }> | undefined;
    provider.setOnStatusChange((status) => {
      statuses.push(status);
      // Read /healthz while the socket is down (the simulator refuses upgrades for a while).
      if (status === 'disconnected' && duringOutage === undefined) duringOutage = healthz();
    });

    const ac = new AbortController();
    const timeout = setTimeout(() => ac.abort(), 20_000);
    onTestFinished(() => clearTimeout(timeout));
    let yielded = 0;
    let dropped = false;
    let before = '';
    let afterStatus = 0;
    let after = '';
    for await (const [bar, err] of provider.stream(ac.signal)) {
      if (err) {
        expect(err.fatal).toBe(false);
        continue;
      }
      yielded += 1;
      expect(bar.symbol).toMatch(/USDT$/);
      if (!dropped && yielded >= 4) {
        dropped = true;
        before = await (await fetch(server.url)).text();
        expect((await healthz()).status).toBe(200);
        sim.faults.refuseConnections(300, 'binance');
        sim.faults.dropConnections('binance');
      }
      if (dropped && statuses.at(-1) === 'connected' && statuses.includes('disconnected')) {
        if (yielded >= 12) {
          afterStatus = (await healthz()).status;
          after = await (await fetch(server.url)).text();
          break;
        }
      }
    }
    expect(ac.signal.aborted).toBe(false);
    const outage = await duringOutage;
    expect(outage?.status).toBe(503);
    expect(outage?.body.reasons.join(' ')).toMatch(/down since/);
    expect(afterStatus).toBe(200);

    expect(
      counterValue(after, 'argo_reconnects_total') - counterValue(before, 'argo_reconnects_total'),
    ).toBe(1);
    expect(counterValue(after, 'argo_bars_total')).toBe(yielded);
    expect(after).toMatch(/argo_bars_total\{venue="binance",interval="1m",symbol="BTCUSDT"\}/);
    // Bars missed during the outage came over REST: one gap per symbol, counted.
    expect(counterValue(after, 'argo_gaps_total')).toBeGreaterThanOrEqual(1);
    expect(counterValue(after, 'argo_backfilled_bars_total')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(
      /argo_last_bar_open_timestamp_seconds\{venue="binance",interval="1m",symbol="ETHUSDT"\} \d+/,
    );
    expectPromText(after);
  });

  it('registers nothing globally and caps per-symbol series', async () => {
    const { register } = await import('prom-client');
    const registry = new Registry();
    const { StreamMetrics } = await import('../../src/metrics/stream-metrics.js');
    const metrics = new StreamMetrics({
      registry,
      venue: 'binance',
      interval: '1m',
      maxSymbolSeries: 2,
    });
    for (const symbol of ['A', 'B', 'C', 'D']) {
      metrics.bar({
        id: symbol,
        symbol,
        time: new Date(0),
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      });
    }
    const text = await registry.metrics();
    expect(text).toContain('symbol="A"');
    expect(text).toContain('symbol="_other"} 2');
    expect(text).not.toContain('symbol="C"');
    expect(await register.metrics()).not.toContain('argo_');
  });
});

describe('per-symbol cardinality cap', () => {
  it('publish and store series stop at maxSymbolSeries; the rest share _other', async () => {
    const { PublishMetrics, StoreMetrics } = await import('../../src/metrics/bus-metrics.js');
    const registry = new Registry();
    const publish = new PublishMetrics(registry, 'binance', '1m', 1);
    const store = new StoreMetrics(registry, 'binance', '1m', 1);
    for (const symbol of ['A', 'B', 'C']) {
      const bar = {
        id: symbol,
        symbol,
        time: new Date(0),
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      };
      publish.acked(bar, 'stored', 0.002);
      store.stored(bar, true);
    }
    const text = await registry.metrics();
    expect(text).toContain(
      'argo_publish_acks_total{venue="binance",interval="1m",symbol="_other",outcome="stored"} 2',
    );
    expect(text).toContain('argo_store_bars_total{venue="binance",interval="1m",symbol="A"} 1');
    expect(text).toContain(
      'argo_store_bars_total{venue="binance",interval="1m",symbol="_other"} 2',
    );
    expect(text).not.toContain('symbol="B"');
    expectPromText(text);
  });
});
