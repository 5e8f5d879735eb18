import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { StreamingDuckDBWriter } from '../../src/writers/streaming-duckdb-writer.js';
import { counterValue, expectPromText } from './prom-text.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'argo-metrics-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// 2024-01-01 .. 2024-03-01 in hours: 1441 bars, two klines pages (1000 + 441).
const RANGE = {
  ticker: 'BTCUSDT',
  startDate: new Date(Date.UTC(2024, 0, 1)),
  endDate: new Date(Date.UTC(2024, 2, 1)),
  multiplier: 1,
  timespan: 'hour',
} as const;

describe('REST and writer metrics', () => {
  it('counts REST requests, weight against the limit, a 429 and a 418; durable bars of a download', async () => {
    const sim = await startSimulator({ seed: 11, speed: 1, start: Date.UTC(2024, 5, 1) });
    onTestFinished(() => sim.close());
    const registry = new Registry();
    const provider = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1h',
      restBaseUrl: sim.binance.restUrl,
      wsBaseUrl: sim.binance.wsUrl,
      reconnectInitialDelayMs: 10,
      reconnectMaxDelayMs: 50,
      requestTimeoutMs: 2000,
      metrics: registry,
    });
    const dir = tempDir();
    const writer = new DuckDBWriter(join(dir, 'out.parquet'), { metrics: registry });
    provider.configWriter(writer);
    // One 429 (Retry-After 1 s, waited out and retried), then the download completes.
    sim.faults.failHttp(1, 429, { retryAfterSec: 1, venue: 'binance' });
    await provider.download(RANGE);
    const httpSeen = sim.stats.httpRequests('binance');
    let text = await registry.metrics();
    expectPromText(text);
    // Every attempt the venue saw went through the scheduler (the 429'd one included).
    expect(counterValue(text, 'argo_rest_requests_total', 'venue="binance"')).toBe(httpSeen);
    expect(counterValue(text, 'argo_rest_weight_total')).toBeGreaterThanOrEqual(httpSeen);
    expect(counterValue(text, 'argo_rest_rate_limited_total')).toBe(1);
    expect(counterValue(text, 'argo_rest_bans_total')).toBe(0);
    expect(text).toMatch(/argo_rest_weight_limit\{venue="binance",window_seconds="60"\} 6000/);
    expect(counterValue(text, 'argo_rest_weight_used', 'window_seconds="60"')).toBeGreaterThan(0);
    expect(counterValue(text, 'argo_writer_durable_bars_total', 'writer="duckdb"')).toBe(1441);
    expect(counterValue(text, 'argo_writer_commits_total', 'writer="duckdb"')).toBe(1);
    expect(counterValue(text, 'argo_writer_commit_seconds_count', 'writer="duckdb"')).toBe(1);
    await writer.close();

    // A 418 fails the download at once (IP_BANNED) and pauses the host: one ban counted.
    const second = new DuckDBWriter(join(dir, 'second.parquet'), { metrics: registry });
    provider.configWriter(second);
    sim.faults.failHttp(1, 418, { retryAfterSec: 1, venue: 'binance' });
    await expect(provider.download(RANGE)).rejects.toMatchObject({ code: 'IP_BANNED' });
    text = await registry.metrics();
    expect(counterValue(text, 'argo_rest_bans_total', 'venue="binance"')).toBe(1);
    expect(counterValue(text, 'argo_rest_pause_seconds')).toBeGreaterThan(0);
    expect(counterValue(text, 'argo_writer_commits_total', 'writer="duckdb"')).toBe(1);
    expectPromText(text);
  });

  it('StreamingDuckDBWriter: durable bars and commits counted before write() resolves', async () => {
    const registry = new Registry();
    const writer = new StreamingDuckDBWriter(tempDir(), 'binance', '1m', { metrics: registry });
    await writer.initialize();
    onTestFinished(() => writer.close());
    const bar = (symbol: string, minute: number) => ({
      id: `${symbol}-${minute}`,
      symbol,
      time: new Date(Date.UTC(2024, 0, 1, 0, minute)),
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 10,
    });
    await writer.write(bar('BTCUSDT', 0));
    const labels = 'writer="streaming-duckdb",venue="binance",interval="1m"';
    let text = await registry.metrics();
    expect(counterValue(text, 'argo_writer_durable_bars_total', labels)).toBe(1);
    // Three writes at once share one group commit.
    await Promise.all([bar('A', 1), bar('B', 1), bar('C', 1)].map((b) => writer.write(b)));
    await writer.writeBatch([bar('A', 2), bar('B', 2)]);
    text = await registry.metrics();
    expect(counterValue(text, 'argo_writer_durable_bars_total', labels)).toBe(6);
    const commits = counterValue(text, 'argo_writer_commits_total', labels);
    expect(commits).toBeGreaterThanOrEqual(3);
    expect(commits).toBeLessThanOrEqual(4);
    expect(counterValue(text, 'argo_writer_commit_seconds_count', labels)).toBe(commits);
    expect(text).toMatch(/argo_writer_commit_seconds_bucket\{le="\+Inf",writer="streaming-duckdb"/);
    expectPromText(text);
  });
});
