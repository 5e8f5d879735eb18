import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect, it, onTestFinished } from 'vitest';
import { ChartFeed } from '../../src/chart/feed.js';
import { providerHistory } from '../../src/chart/history.js';
import type { ChartBar } from '../../src/chart/series.js';
import { startChartServer } from '../../src/chart/server.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { pageErrors, useBrowser } from '../helpers/browser.js';
import { countColour, decodePng } from '../helpers/png.js';

const MINUTE = 60_000;
const SCREENSHOT = fileURLToPath(new URL('../../docs/chart.png', import.meta.url));
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const HISTORY_BARS = 40;
const browser = useBrowser();

async function liveChart() {
  // Speed 120: a 1m bar closes every 0.5 s; the clock starts two hours back so REST has history.
  const sim = await startSimulator({ seed: 5, speed: 120, start: Date.now() - 7_200_000 });
  onTestFinished(() => sim.close());
  const options = {
    symbols: SYMBOLS,
    interval: '1m' as const,
    restBaseUrl: sim.binance.restUrl,
    wsBaseUrl: sim.binance.wsUrl,
    reconnectInitialDelayMs: 200,
    reconnectMaxDelayMs: 400,
  };
  const feed = new ChartFeed({
    provider: new BinanceProvider(options),
    providerName: 'binance',
    history: providerHistory(() => new BinanceProvider(options), '1m'),
    historyBars: HISTORY_BARS,
    intervalMs: MINUTE,
    venueNowMs: () => sim.clock.now(),
  });
  const server = await startChartServer(feed);
  onTestFinished(() => server.close());
  const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
  onTestFinished(() => page.close());
  const errors = pageErrors(page);
  await page.goto(server.url);
  return { sim, server, page, errors };
}

const drawn = (page: Page, symbol: string) =>
  page.evaluate((s) => argoChart.bars(s), symbol) as Promise<ChartBar[]>;

/** Waits until `symbol` has at least `count` closed bars drawn. */
async function untilBars(page: Page, symbol: string, count: number): Promise<void> {
  await page.waitForFunction(
    ([s, n]) => argoChart.bars(s as string).length >= (n as number),
    [symbol, count] as const,
    { timeout: 30_000, polling: 50 },
  );
}

/** The drawn series equals the venue's bars over its whole span: no gap, no repeat, same values. */
function expectVenueBars(
  sim: Awaited<ReturnType<typeof startSimulator>>,
  symbol: string,
  bars: ChartBar[],
) {
  const firstMs = bars[0]?.time ?? 0;
  const lastMs = bars.at(-1)?.time ?? 0;
  const expected = sim.market
    .binanceBars(symbol, '1m', firstMs, lastMs)
    .filter((bar) => bar.openTimeMs >= firstMs && bar.openTimeMs <= lastMs)
    .map((bar) => ({
      time: bar.openTimeMs,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
    }));
  expect(bars).toEqual(expected);
}

it('draws history then live bars exactly as the venue has them, with no console error', async () => {
  const { sim, page, errors } = await liveChart();
  for (const symbol of SYMBOLS) await untilBars(page, symbol, HISTORY_BARS + 4);
  for (const symbol of SYMBOLS) {
    const bars = await drawn(page, symbol);
    expect(bars.length).toBeGreaterThanOrEqual(HISTORY_BARS + 4);
    expectVenueBars(sim, symbol, bars);
  }
  const status = await page.evaluate(() => argoChart.status());
  expect(status.connections.map((c) => c.state)).toEqual(['connected', 'connected']);
  expect(await page.locator('section.symbol h2').allTextContents()).toEqual([
    'BTCUSDT 1m',
    'ETHUSDT 1m',
  ]);

  const png = await page.screenshot();
  // The README's picture: `ARGO_UPDATE_SCREENSHOT=1 npx vitest run test/chart/live.test.ts`.
  if (process.env.ARGO_UPDATE_SCREENSHOT === '1') await writeFile(SCREENSHOT, png);
  const image = decodePng(png);
  // Both candle colours are on the page: it drew rising and falling bars, not a blank canvas.
  expect(countColour(image, '#26a69a')).toBeGreaterThan(200);
  expect(countColour(image, '#ef5350')).toBeGreaterThan(200);
  expect(errors).toEqual([]);
});

it('shows reconnecting then connected after a drop, and the series has no gap', async () => {
  const { sim, page, errors } = await liveChart();
  for (const symbol of SYMBOLS) await untilBars(page, symbol, HISTORY_BARS + 2);
  const before = (await drawn(page, 'BTCUSDT')).length;
  sim.faults.dropConnections();
  await page.waitForFunction(
    () => {
      const { log, connections } = argoChart.status();
      const sawReconnecting = log.some((entry) => entry.state === 'reconnecting');
      return sawReconnecting && connections.every((c) => c.state === 'connected');
    },
    undefined,
    { timeout: 30_000, polling: 50 },
  );
  for (const symbol of SYMBOLS) await untilBars(page, symbol, before + 6);
  for (const symbol of SYMBOLS) expectVenueBars(sim, symbol, await drawn(page, symbol));
  const { log } = await page.evaluate(() => argoChart.status());
  const btc = log.find((entry) => entry.connection.includes('btcusdt'))?.connection;
  const states = log.filter((entry) => entry.connection === btc).map((entry) => entry.state);
  // connected, then the drop: reconnecting, and back (through backfilling when bars were missed).
  expect(states[0]).toBe('connected');
  expect(states).toContain('reconnecting');
  expect(states.at(-1)).toBe('connected');
  expect(errors).toEqual([]);
});

it('closes the venue connections when the last page leaves', async () => {
  const { sim, server, page } = await liveChart();
  await untilBars(page, 'BTCUSDT', HISTORY_BARS + 1);
  expect(server.pages()).toBe(1);
  await page.close();
  await server.untilPages(0);
  await sim.stats.untilOpenConnections(0, 'binance');
});
