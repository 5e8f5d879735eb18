import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { BinanceProvider } from '../../../src/providers/binance/provider.js';
import { startSimulator } from '../../../src/simulator/index.js';
import { MemoryWriter } from '../../helpers/memory-writer.js';

// Issue 16 pt 5: four downloads at once at high latency opened a wide page window, and each page
// waiting for the host budget or in flight holds a listener on its download's abort signal:
// Node printed MaxListenersExceededWarning although the count is bounded by the window.
it('runs four concurrent downloads at 200 ms latency without a MaxListenersExceededWarning', async () => {
  const sim = await startSimulator({
    seed: 4,
    speed: 1,
    start: Date.UTC(2024, 5, 1),
    binanceSymbols: ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'],
  });
  onTestFinished(() => sim.close());
  sim.faults.setRestLatency(200, 'binance');
  const dir = mkdtempSync(join(tmpdir(), 'argo-listeners-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', onWarning);
  onTestFinished(() => {
    process.off('warning', onWarning);
  });
  const results = await Promise.all(
    ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'].map(async (symbol) => {
      const provider = new BinanceProvider({
        symbols: [symbol],
        interval: '1m',
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
      });
      const writer = new MemoryWriter(join(dir, `${symbol}.json`));
      provider.configWriter(writer);
      await provider.download({
        ticker: symbol,
        startDate: new Date(Date.UTC(2024, 0, 1)),
        endDate: new Date(Date.UTC(2024, 0, 21)), // 20 days of 1m = 29 pages
        multiplier: 1,
        timespan: 'minute',
      });
      return writer.rows.length;
    }),
  );
  expect(results).toEqual([28_801, 28_801, 28_801, 28_801]);
  // 'warning' is emitted on process.nextTick after the listener was added.
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
}, 60_000);
