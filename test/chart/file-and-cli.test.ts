import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { FileChartView } from '../../src/chart/file-view.js';
import type { ChartBar } from '../../src/chart/series.js';
import { startChartServer } from '../../src/chart/server.js';
import type { MarketData } from '../../src/core/types.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { pageErrors, useBrowser } from '../helpers/browser.js';
import { countColour, decodePng } from '../helpers/png.js';
import { spawnCli, untilLines } from '../helpers/run-cli.js';

const HOUR = 3_600_000;
const browser = useBrowser();

/** 48 hourly bars that rise and fall in turn, so both candle colours appear. */
function hourlyBars(symbol: string, startMs: number): MarketData[] {
  return Array.from({ length: 48 }, (_, i) => {
    const open = 100 + Math.sin(i / 4) * 10;
    const close = open + (i % 2 === 0 ? 2.5 : -2.5);
    return {
      id: `${symbol}-1h-${startMs + i * HOUR}`,
      symbol,
      time: new Date(startMs + i * HOUR),
      open,
      high: Math.max(open, close) + 1,
      low: Math.min(open, close) - 1,
      close,
      volume: 10 + i,
    };
  });
}

it('draws a Parquet file with its range and bar count', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'argo-chart-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const startMs = Date.UTC(2024, 0, 1);
  const bars = hourlyBars('BTCUSDT', startMs);
  const writer = new DuckDBWriter(join(dir, 'BTCUSDT_2024-01-01_2024-01-02_1_hour.parquet'));
  await writer.initialize();
  await writer.writeBatch(bars);
  const path = await writer.finalize();
  await writer.close();

  const server = await startChartServer(await FileChartView.open(path));
  onTestFinished(() => server.close());
  const page = await browser().newPage({ viewport: { width: 1100, height: 700 } });
  onTestFinished(() => page.close());
  const errors = pageErrors(page);
  await page.goto(server.url);
  await page.waitForFunction(() => argoChart.bars('BTCUSDT').length === 48, undefined, {
    timeout: 20_000,
  });
  const drawn = (await page.evaluate(() => argoChart.bars('BTCUSDT'))) as ChartBar[];
  expect(drawn).toEqual(
    bars.map((bar) => ({
      time: bar.time.getTime(),
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
    })),
  );
  expect(await page.locator('#summary').textContent()).toBe(
    '48 bars, 2024-01-01 00:00:00 UTC … 2024-01-02 23:00:00 UTC',
  );
  expect(await page.locator('#title').textContent()).toBe(
    'BTCUSDT_2024-01-01_2024-01-02_1_hour.parquet',
  );
  const image = decodePng(await page.screenshot());
  expect(countColour(image, '#26a69a')).toBeGreaterThan(200);
  expect(countColour(image, '#ef5350')).toBeGreaterThan(200);
  expect(errors).toEqual([]);
});

it('argo-market chart prints its URL first, serves live bars, and exits 0 on Ctrl-C', async () => {
  const child = spawnCli([
    'chart',
    '--provider',
    'binance',
    '--symbols',
    'BTCUSDT',
    '--interval',
    '1m',
    '--history',
    '20',
    '--simulate',
    '--speed',
    '120',
  ]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const [first] = await untilLines(child, 1, 30_000);
  expect(first).toMatch(/^chart: http:\/\/127\.0\.0\.1:\d+\/$/);
  const url = (first as string).slice('chart: '.length);

  const page = await browser().newPage();
  const errors = pageErrors(page);
  await page.goto(url);
  // History (20 bars) and then live bars, closing every 0.5 s at speed 120.
  await page.waitForFunction(() => argoChart.bars('BTCUSDT').length >= 23, undefined, {
    timeout: 30_000,
  });
  const times = ((await page.evaluate(() => argoChart.bars('BTCUSDT'))) as ChartBar[]).map(
    (bar) => bar.time,
  );
  expect(new Set(times.slice(1).map((t, i) => t - (times[i] ?? 0)))).toEqual(new Set([60_000]));
  // The browser never sees the simulator's (or any) venue URL: only our own origin.
  const origin = new URL(url).origin;
  const foreign = await page.evaluate(
    (own) =>
      performance
        .getEntries()
        .map((entry) => entry.name)
        .filter((name) => name.startsWith('http') && !name.startsWith(own)),
    origin,
  );
  expect(foreign).toEqual([]);
  await page.close();
  expect(errors).toEqual([]);

  child.kill('SIGINT');
  const [code] = await new Promise<[number | null]>((resolve) =>
    child.once('close', (exitCode) => resolve([exitCode])),
  );
  expect(code).toBe(0);
  expect(stderr).toContain('received SIGINT, stopping');
});
