import { intervalToTimespan } from '../core/intervals.js';
import type {
  BatchWriter,
  Interval,
  MarketData,
  MarketDataWriter,
  Provider,
} from '../core/types.js';
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
