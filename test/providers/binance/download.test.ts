import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bucketStartMs } from '../../../src/core/intervals.js';
import type { DownloadParams } from '../../../src/core/types.js';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';
import { valuesOf } from './helpers.js';

const HOUR = 3_600_000;
type Sim = Awaited<ReturnType<typeof startSimulator>>;

async function setup(extra: Partial<ConstructorParameters<typeof BinanceProvider>[0]> = {}) {
  const sim = await startSimulator({ seed: 11, speed: 1, start: Date.UTC(2024, 5, 1) });
  onTestFinished(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'argo-binance-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const client = new BinanceProvider({
    symbols: ['BTCUSDT'],
    interval: '1m',
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
    reconnectInitialDelayMs: 10,
    reconnectMaxDelayMs: 50,
    requestTimeoutMs: 2000,
    ...extra,
  });
  const path = join(dir, 'out.json');
  const writer = new MemoryWriter(path);
  client.configWriter(writer);
  return { sim, client, writer, path };
}

// 2024-01-01 .. 2024-03-01 in hours: 1441 open times, two pages (1000 + 441).
const RANGE = {
  ticker: 'BTCUSDT',
  startDate: new Date(Date.UTC(2024, 0, 1)),
  endDate: new Date(Date.UTC(2024, 2, 1)),
  multiplier: 1,
  timespan: 'hour',
} satisfies DownloadParams;

function expectExchangeBars(sim: Sim, rows: MemoryWriter['rows'], fromMs: number, toMs: number) {
  const expected = sim.market
    .binanceBars('BTCUSDT', '1h', fromMs, toMs)
    .filter((b) => b.openTimeMs >= fromMs && b.openTimeMs <= toMs)
    .map((b) => ({
      openTimeMs: b.openTimeMs,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
    }));
  expect(rows.map(valuesOf)).toEqual(expected);
}

describe('BinanceProvider.download against the simulator', () => {
  it('writes every bar of the range once, in order, in batches, with rising progress to total', async () => {
    const { sim, client, writer, path } = await setup({ downloadConcurrency: 4 });
    const progress: [number, number][] = [];
    const result = await client.download({
      ...RANGE,
      onProgress: (current, total) => progress.push([current, total]),
    });
    expect(result).toBe(path);
    expect(writer.rows).toHaveLength(1441);
    expect(writer.rows[0]?.id).toBe(`BTCUSDT-1h-${Date.UTC(2024, 0, 1)}`);
    expectExchangeBars(sim, writer.rows, RANGE.startDate.getTime(), RANGE.endDate.getTime());
    expect(writer.batches).toBe(2);
    expect(progress.at(-1)).toEqual([1441, 1441]);
    expect(progress.every(([c], i) => i === 0 || c >= (progress[i - 1]?.[0] ?? 0))).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(1441);
    expect(writer.calls).toEqual(['initialize', 'finalize', 'close']);
  });

  it('never writes the bar that is still open', async () => {
    const { sim, client, writer } = await setup();
    const nowMs = sim.clock.now();
    await client.download({
      ...RANGE,
      startDate: new Date(nowMs - 10 * HOUR),
      endDate: new Date(nowMs + 10 * HOUR),
    });
    // The last bar written is the one before the bar open at the (download-time) server clock.
    const lastOpenMs = writer.rows.at(-1)?.time.getTime() ?? 0;
    expect(lastOpenMs + HOUR).toBe(bucketStartMs('1h', nowMs));
    expect(writer.rows.length).toBeGreaterThanOrEqual(9);
    expectExchangeBars(sim, writer.rows, nowMs - 10 * HOUR, lastOpenMs);
  });

  it.each([429, 500, 503] as const)(
    'retries through HTTP %i and still writes everything',
    async (status) => {
      const { sim, client, writer } = await setup();
      sim.faults.failHttp(3, status, { retryAfterSec: 0, venue: 'binance' });
      await client.download(RANGE);
      expectExchangeBars(sim, writer.rows, RANGE.startDate.getTime(), RANGE.endDate.getTime());
    },
  );

  it('stops with a fatal IP_BANNED on 418 and leaves no file', async () => {
    const { sim, client, writer, path } = await setup();
    sim.faults.failHttp(1, 418, { retryAfterSec: 120, venue: 'binance' });
    await expect(client.download(RANGE)).rejects.toMatchObject({
      code: 'IP_BANNED',
      fatal: true,
      message: expect.stringContaining('120 s'),
    });
    expect(existsSync(path)).toBe(false);
    expect(writer.calls).toEqual(['initialize', 'close']);
  });

  it('aborts promptly, rejects with ABORTED and leaves no file', async () => {
    const { sim, client, writer, path } = await setup({ downloadConcurrency: 1 });
    sim.faults.setRestLatency(100, 'binance');
    const ac = new AbortController();
    const started = Date.now();
    const pending = client.download({
      ...RANGE,
      signal: ac.signal,
      onProgress: (current) => current > 0 && ac.abort(),
    });
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(existsSync(path)).toBe(false);
    expect(writer.calls).toEqual(['initialize', 'close']);
  });

  it('rejects an unknown symbol with INVALID_SYMBOL and an unsupported bar size with INVALID_INTERVAL', async () => {
    const { client, path } = await setup();
    await expect(client.download({ ...RANGE, ticker: 'NOPEUSDT' })).rejects.toMatchObject({
      code: 'INVALID_SYMBOL',
      fatal: true,
    });
    await expect(
      client.download({ ...RANGE, multiplier: 7, timespan: 'minute' }),
    ).rejects.toMatchObject({ code: 'INVALID_INTERVAL' });
    await expect(client.download({ ...RANGE, ticker: 'BTC/USDT' })).rejects.toMatchObject({
      code: 'INVALID_SYMBOL',
    });
    expect(existsSync(path)).toBe(false);
  });

  it('needs a writer', async () => {
    const client = new BinanceProvider({
      symbols: ['BTCUSDT'],
      interval: '1m',
      restBaseUrl: 'http://127.0.0.1:9',
    });
    await expect(client.download(RANGE)).rejects.toMatchObject({ code: 'WRITER_NOT_CONFIGURED' });
  });

  it('uses exactly one request per page plus the symbol check', async () => {
    const { sim, client } = await setup();
    const before = sim.stats.httpRequests('binance');
    await client.download(RANGE);
    expect(sim.stats.httpRequests('binance') - before).toBe(3);
  });
});
