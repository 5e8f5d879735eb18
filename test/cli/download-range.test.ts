import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { runCli } from '../helpers/run-cli.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-cli-range-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const january = ['--start', '2024-01-01', '--end', '2024-01-31', '--interval', '1h'];

describe('argo-market download ranges and progress (issue 13.1, 13.5, 13.8)', () => {
  it('downloads whole UTC days: January at 1h is 744 bars, progress counted in bars to 744', async () => {
    const dir = await tempDir();
    const run = await runCli([
      'download',
      '--provider',
      'binance',
      '--ticker',
      'BTCUSDT',
      ...january,
      '--data',
      dir,
      '--simulate',
    ]);
    expect(run.code).toBe(0);
    // Simulated data lands under simulated/ (issue 15.7), never beside real downloads.
    const path = join(dir, 'simulated', 'BTCUSDT_2024-01-01_2024-01-31_1_hour.parquet');
    expect(run.stdout.trim()).toBe(path);
    const bars = await readParquetBars(path);
    expect(bars).toHaveLength(744);
    expect(bars.at(-1)?.time.toISOString()).toBe('2024-01-31T23:00:00.000Z');
    const progress = [...run.stderr.matchAll(/^progress (\d+)\/(\d+) bars/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(progress.at(-1)).toEqual([744, 744]);
    expect(
      progress.every(
        ([c, t], i) => t === 744 && (i === 0 || (c ?? 0) >= (progress[i - 1]?.[0] ?? 0)),
      ),
    ).toBe(true);
  });
});
