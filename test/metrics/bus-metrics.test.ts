import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { publishStream } from '../../src/bus/publish.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats-cluster.js';
import { spawnCli } from '../helpers/run-cli.js';
import { collectStderr, expectJsonLines, metricsUrl } from './cli-helpers.js';
import { counterValue, expectPromText } from './prom-text.js';

const PASSWORD = 'Bus-s3cret-pa55';
let cluster: NatsCluster;

beforeAll(async () => {
  cluster = await startNatsCluster({ auth: { user: 'argo', pass: PASSWORD } });
}, 30_000);
afterAll(() => cluster?.close());

const servers = () =>
  cluster.urls.map((url) => url.replace('nats://', `nats://argo:${PASSWORD}@`)).join(',');

describe('bus metrics: collector and store service', () => {
  it('counts publish acks and their latency; the store CLI serves durable bars, no credential anywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'argo-bus-metrics-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = spawnCli([
      'store',
      '--servers',
      servers(),
      '--venue',
      'binance',
      '--interval',
      '1m',
      '--out',
      dir,
      '--from',
      '2000-01-01',
      '--metrics-port',
      '0',
      '--log-format',
      'json',
    ]);
    onTestFinished(() => {
      if (store.exitCode === null) store.kill('SIGKILL');
    });
    const stderr = collectStderr(store);
    const url = await metricsUrl(stderr, store);

    const sim = await startSimulator({ seed: 5, speed: 600, start: Date.now() - 3_600_000 });
    onTestFinished(() => sim.close());
    const registry = new Registry();
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT', 'ETHUSDT'],
      interval: '1m',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      metrics: registry,
    });
    const ac = new AbortController();
    let published = 0;
    const collecting = publishStream(provider, {
      servers: servers(),
      signal: ac.signal,
      metrics: registry,
      onPublished: () => {
        published += 1;
        if (published === 6) ac.abort();
      },
    });
    const summary = await collecting;
    const text = await registry.metrics();
    expectPromText(text);
    expect(counterValue(text, 'argo_publish_acks_total')).toBe(published);
    expect(counterValue(text, 'argo_publish_acks_total', 'outcome="stored"')).toBe(summary.stored);
    expect(counterValue(text, 'argo_publish_ack_seconds_count')).toBe(published);
    expect(text).toMatch(/argo_publish_acks_total\{venue="binance",interval="1m",symbol="BTCUSDT"/);
    expect(text).not.toContain(PASSWORD);

    // The store gets every stored bar: wait for its stdout lines, then scrape it.
    await new Promise<void>((resolve, reject) => {
      let lines = 0;
      const timer = setTimeout(() => reject(new Error(`store saw ${lines} bars`)), 15_000);
      store.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        lines += chunk.split('\n').length - 1;
        if (lines >= summary.stored) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const scraped = await (await fetch(url)).text();
    expectPromText(scraped);
    expect(counterValue(scraped, 'argo_store_bars_total')).toBeGreaterThanOrEqual(summary.stored);
    expect(
      counterValue(scraped, 'argo_writer_durable_bars_total', 'writer="streaming-duckdb"'),
    ).toBe(counterValue(scraped, 'argo_store_bars_total'));
    expect(counterValue(scraped, 'argo_writer_commit_seconds_count')).toBeGreaterThan(0);
    const health = await fetch(url.replace(/metrics$/, 'healthz'));
    expect(health.status).toBe(200);
    expect(scraped).not.toContain(PASSWORD);
    store.kill('SIGINT');
    const [code] = await new Promise<[number | null]>((resolve) =>
      store.once('close', (c: number | null) => resolve([c])),
    );
    expect(code).toBe(0);
    expect(stderr.text).not.toContain(PASSWORD);
    const entries = expectJsonLines(stderr.text);
    expect(entries.every((e) => e.venue === 'binance')).toBe(true);
  });

  it('the collector CLI (stream --publish --metrics-port) serves stream and publish series', async () => {
    const child = spawnCli([
      'stream',
      '--provider',
      'binance',
      '--symbols',
      'BTCUSDT',
      '--interval',
      '1m',
      '--simulate',
      '--speed',
      '600',
      '--publish',
      servers(),
      '--metrics-port',
      '0',
    ]);
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const stderr = collectStderr(child);
    const url = await metricsUrl(stderr, child);
    await new Promise<void>((resolve, reject) => {
      let lines = 0;
      const timer = setTimeout(
        () => reject(new Error(`published ${lines}: ${stderr.text}`)),
        15_000,
      );
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        lines += chunk.split('\n').length - 1;
        if (lines >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const text = await (await fetch(url)).text();
    expectPromText(text);
    expect(
      counterValue(text, 'argo_publish_acks_total', 'symbol="BTCUSDT"'),
    ).toBeGreaterThanOrEqual(3);
    expect(counterValue(text, 'argo_bars_total', 'symbol="BTCUSDT"')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(PASSWORD);
    const health = await fetch(url.replace(/metrics$/, 'healthz'));
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(stderr.text).not.toContain(PASSWORD);
  });
});
