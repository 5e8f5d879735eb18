import { intervalToTimespan } from '../core/intervals.js';
import type {
  BatchWriter,
  Interval,
  MarketData,
  MarketDataWriter,
  Provider,
} from '../core/types.js';
import type { DatasetProvider } from '../dataset/layout.js';
import { openDataset } from '../dataset/read.js';
import type { HistoryFetcher } from './feed.js';

/** Collects a download in memory: a chart's history is a few hundred bars, never a file. */
class MemoryWriter implements MarketDataWriter, BatchWriter {
  readonly bars: MarketData[] = [];
  async initialize(): Promise<void> {}
  async write(data: MarketData): Promise<void> {
    this.bars.push(data);
  }
  async writeBatch(data: MarketData[]): Promise<void> {
    for (const bar of data) this.bars.push(bar);
  }
  async finalize(): Promise<string> {
    return '';
  }
  async close(): Promise<void> {}
  getOutputPath(): string {
    return '';
  }
}

/**
 * History from the venue's REST through the provider's own `download` (its paging, closed-bar
 * rule and rate budget), one provider per request so that concurrent symbols never share a
 * writer.
 */
export function providerHistory(makeProvider: () => Provider, interval: Interval): HistoryFetcher {
  const { multiplier, timespan } = intervalToTimespan(interval);
  return async (symbol, fromMs, toMs, signal) => {
    const provider = makeProvider();
    const writer = new MemoryWriter();
    provider.configWriter(writer);
    await provider.download({
      ticker: symbol,
      startDate: new Date(fromMs),
      endDate: new Date(toMs),
      multiplier,
      timespan,
      signal,
    });
    return writer.bars;
  };
}

/**
 * History from a `sync` dataset (`--data DIR`), then the venue's REST for what the dataset does
 * not hold yet (the time after its last bar), so the chart starts with no hole before the live
 * part even when the dataset is behind.
 */
export function datasetHistory(
  dir: string,
  provider: DatasetProvider,
  interval: Interval,
  venue: HistoryFetcher,
): HistoryFetcher {
  const dataset = openDataset(dir);
  return async (symbol, fromMs, toMs, signal) => {
    const stored = await dataset.read({
      provider,
      interval,
      symbol,
      from: new Date(fromMs),
      to: new Date(toMs),
    });
    const lastMs = stored.at(-1)?.time.getTime();
    const rest = await venue(symbol, lastMs === undefined ? fromMs : lastMs + 1, toMs, signal);
    return stored.concat(rest);
  };
}
