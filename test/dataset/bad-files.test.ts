import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listDataset, openDataset } from '../../src/dataset/read.js';
import { syncDataset } from '../../src/dataset/sync.js';
import { startSimulator } from '../../src/simulator/index.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { tempDataset } from './helpers.js';

async function setup() {
  const sim = await startSimulator({ seed: 4, start: Date.UTC(2024, 2, 3) });
  onTestFinished(() => sim.close());
  const data = await tempDataset();
  const options = (symbols: string[], interval: '1d' | '1h' = '1d') => ({
    data,
    provider: 'binance' as const,
    symbols,
    interval,
    from: new Date(Date.UTC(2024, 0, 1)),
    providerOptions: { restBaseUrl: sim.binance.restUrl },
  });
  return { sim, data, options };
}

describe('foreign and corrupt files', () => {
  it('a corrupt month file is reported by path and never overwritten; other symbols complete', async () => {
    const { data, options } = await setup();
    await syncDataset(options(['BTCUSDT', 'ETHUSDT']));
    const path = join(data, 'binance', '1d', 'BTCUSDT', '2024-02.parquet');
    await writeFile(path, 'not parquet at all');
    // Delete a month of ETHUSDT: it is fetched again.
    await rename(
      join(data, 'binance', '1d', 'ETHUSDT', '2024-02.parquet'),
      join(data, 'eth-feb.bak'),
    );
    const summary = await syncDataset(options(['BTCUSDT', 'ETHUSDT']));
    expect(summary.failed).toEqual(['BTCUSDT']);
    const btc = summary.symbols[0];
    expect(btc?.error?.code).toBe('WRITER');
    expect(btc?.error?.message).toContain(path);
    expect(btc?.problems).toEqual([
      { path, kind: 'corrupt', reason: expect.stringContaining('not a readable Parquet file') },
    ]);
    expect(await readFile(path, 'utf8')).toBe('not parquet at all');
    expect(summary.symbols[1]?.status).toBe('ok');
    expect(summary.symbols[1]?.fetched).toEqual([
      { from: '2024-02-01T00:00:00.000Z', to: '2024-02-29T23:59:59.999Z' },
      // After the last stored bar: always asked again (about one request).
      { from: '2024-03-03T00:00:00.000Z', to: expect.any(String) },
    ]);
    const listed = await listDataset(data);
    expect(listed.find((s) => s.symbol === 'BTCUSDT')?.problems[0]?.path).toBe(path);
    await expect(
      openDataset(data).read({ provider: 'binance', interval: '1d', symbol: 'BTCUSDT' }),
    ).rejects.toMatchObject({ code: 'WRITER', message: expect.stringContaining(path) });
  });

  it('a foreign Parquet file (a download, or another interval) is reported, never mixed', async () => {
    const { data, options } = await setup();
    await syncDataset(options(['BTCUSDT']));
    await syncDataset(options(['ETHUSDT'], '1h'));
    const feb = join(data, 'binance', '1d', 'BTCUSDT', '2024-02.parquet');
    // A 1h month file moved under 1d (as a case-insensitive disk would do with 1m and 1M).
    await copyFile(
      join(data, 'binance', '1h', 'ETHUSDT', '2024-01.parquet'),
      join(data, 'binance', '1d', 'ETHUSDT-2024-01.parquet'),
    );
    await mkdir(join(data, 'binance', '1d', 'ETHUSDT'), { recursive: true });
    await rename(
      join(data, 'binance', '1d', 'ETHUSDT-2024-01.parquet'),
      join(data, 'binance', '1d', 'ETHUSDT', '2024-01.parquet'),
    );
    // A plain download file dropped over a month file.
    const writer = new DuckDBWriter(feb);
    await writer.initialize();
    await writer.write({
      id: 'x',
      symbol: 'BTCUSDT',
      time: new Date(Date.UTC(2024, 1, 2)),
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      volume: 1,
    });
    await writer.finalize();
    await writer.close();
    const summary = await syncDataset(options(['BTCUSDT', 'ETHUSDT']));
    expect(summary.failed).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(summary.symbols[0]?.problems).toEqual([
      { path: feb, kind: 'foreign', reason: expect.stringContaining('not written by a sync') },
    ]);
    expect(summary.symbols[1]?.problems[0]?.reason).toContain('written for binance 1h ETHUSDT');
  });
});
