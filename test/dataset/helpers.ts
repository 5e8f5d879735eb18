import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { onTestFinished } from 'vitest';
import type { Interval, MarketData } from '../../src/core/types.js';
import { openDataset } from '../../src/dataset/read.js';

/** A fresh dataset directory, removed when the test finishes. */
export async function tempDataset(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-dataset-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, relative, sorted (temporary files included, so leftovers show). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** The bars of each symbol, as plain rows for exact comparison. */
export async function datasetRows(
  dir: string,
  provider: 'binance' | 'polygon',
  interval: Interval,
  symbols: string[],
): Promise<Record<string, Array<[string, number, number, number, number, number, number]>>> {
  const out: Record<string, Array<[string, number, number, number, number, number, number]>> = {};
  const dataset = openDataset(dir);
  for (const symbol of symbols) {
    const bars = await dataset.read({ provider, interval, symbol });
    out[symbol] = bars.map((b: MarketData) => [
      b.id,
      b.time.getTime(),
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
    ]);
  }
  return out;
}
