import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { ChartFeed } from '../../src/chart/feed.js';
import { datasetHistory, providerHistory } from '../../src/chart/history.js';
import type { ChartBar } from '../../src/chart/series.js';
import { startChartServer } from '../../src/chart/server.js';
import { syncDataset } from '../../src/dataset/sync.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { type SimBar, startSimulator } from '../../src/simulator/index.js';
import { pageErrors, useBrowser } from '../helpers/browser.js';

const MINUTE = 60_000;
const browser = useBrowser();

const chartBar = (bar: SimBar): ChartBar => ({
  time: bar.openTimeMs,
  open: bar.open,
  high: bar.high,
  low: bar.low,
  close: bar.close,
  volume: bar.volume,
});

it('--data draws the dataset first, then the venue fills what the dataset lacks, with no hole', async () => {
  const startMs = Math.floor((Date.now() - 2 * 3_600_000) / MINUTE) * MINUTE;
  // The dataset comes from another market (seed 1) than the live venue (seed 2), so the drawn
  // bars show which source each part came from.
  const archive = await startSimulator({ seed: 1, start: startMs });
  onTestFinished(() => archive.close());
  const dir = await mkdtemp(join(tmpdir(), 'argo-chart-data-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const datasetFromMs = startMs - 100 * MINUTE;
  const datasetToMs = startMs - 40 * MINUTE;
  await syncDataset({
    data: dir,
    provider: 'binance',
    symbols: ['BTCUSDT'],
    interval: '1m',
    from: new Date(datasetFromMs),
    to: new Date(datasetToMs),
    providerOptions: { restBaseUrl: archive.binance.restUrl },
  });

  const venue = await startSimulator({ seed: 2, speed: 120, start: startMs });
  onTestFinished(() => venue.close());
  const options = {
    symbols: ['BTCUSDT'],
    interval: '1m' as const,
    restBaseUrl: venue.binance.restUrl,
    wsBaseUrl: venue.binance.wsUrl,
  };
  const feed = new ChartFeed({
    provider: new BinanceProvider(options),
    providerName: 'binance',
    history: datasetHistory(
      dir,
      'binance',
      '1m',
      providerHistory(() => new BinanceProvider(options), '1m'),
    ),
    historyBars: 100,
    intervalMs: MINUTE,
    venueNowMs: () => venue.clock.now(),
  });
  const server = await startChartServer(feed);
  onTestFinished(() => server.close());
  const page = await browser().newPage();
  onTestFinished(() => page.close());
  const errors = pageErrors(page);
  await page.goto(server.url);
  await page.waitForFunction(() => argoChart.bars('BTCUSDT').length >= 104, undefined, {
    timeout: 30_000,
  });
  const drawn = (await page.evaluate(() => argoChart.bars('BTCUSDT'))) as ChartBar[];
  const firstMs = drawn[0]?.time ?? 0;
  const lastMs = drawn.at(-1)?.time ?? 0;
  const fromArchive = archive.market
    .binanceBars('BTCUSDT', '1m', firstMs, datasetToMs)
    .filter((bar) => bar.openTimeMs >= firstMs && bar.openTimeMs <= datasetToMs)
    .map(chartBar);
  const fromVenue = venue.market
    .binanceBars('BTCUSDT', '1m', datasetToMs + MINUTE, lastMs)
    .filter((bar) => bar.openTimeMs > datasetToMs && bar.openTimeMs <= lastMs)
    .map(chartBar);
  expect(fromArchive.length).toBeGreaterThan(30);
  expect(drawn).toEqual([...fromArchive, ...fromVenue]);
  expect(errors).toEqual([]);
});
