import { rename, rm, writeFile } from 'node:fs/promises';
import type { BatchWriter, MarketData, MarketDataWriter } from '../../src/core/types.js';

/**
 * Test scaffolding of the writer interface (the DuckDB writers live on another branch): keeps
 * rows in memory, and on finalize writes them as JSON to a temporary file renamed into place,
 * so "no file after a failed download" is observable on disk.
 */
export class MemoryWriter implements MarketDataWriter, BatchWriter {
  readonly rows: MarketData[] = [];
  readonly calls: string[] = [];
  batches = 0;

  constructor(private readonly outputPath: string) {}

  async initialize(): Promise<void> {
    this.calls.push('initialize');
  }

  async write(data: MarketData): Promise<void> {
    this.rows.push(data);
  }

  async writeBatch(data: MarketData[]): Promise<void> {
    this.batches += 1;
    for (const row of data) this.rows.push(row);
  }

  async finalize(): Promise<string> {
    this.calls.push('finalize');
    const temporary = `${this.outputPath}.tmp`;
    await writeFile(temporary, JSON.stringify(this.rows));
    await rename(temporary, this.outputPath);
    return this.outputPath;
  }

  async close(): Promise<void> {
    this.calls.push('close');
    await rm(`${this.outputPath}.tmp`, { force: true });
  }

  getOutputPath(): string {
    return this.outputPath;
  }
}
