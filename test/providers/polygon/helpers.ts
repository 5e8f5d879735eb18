import { writeFileSync } from 'node:fs';
import type { MarketData, MarketDataWriter } from '../../../src/core/types.js';

/** A writer that keeps bars in memory and writes them as JSON lines on finalize. */
export class JsonLinesWriter implements MarketDataWriter {
  readonly bars: MarketData[] = [];
  readonly calls: string[] = [];
  batches = 0;

  constructor(private readonly path: string) {}

  async initialize(): Promise<void> {
    this.calls.push('initialize');
  }

  async write(data: MarketData): Promise<void> {
    this.bars.push(data);
  }

  async writeBatch(data: MarketData[]): Promise<void> {
    this.batches += 1;
    for (const bar of data) this.bars.push(bar);
  }

  async finalize(): Promise<string> {
    this.calls.push('finalize');
    writeFileSync(this.path, this.bars.map((bar) => JSON.stringify(bar)).join('\n'));
    return this.path;
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }

  getOutputPath(): string {
    return this.path;
  }
}

/** Comparable form of a bar: open time and OHLCV. */
export function ohlcv(bar: {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}): number[] {
  return [bar.open, bar.high, bar.low, bar.close, bar.volume];
}
