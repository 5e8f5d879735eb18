import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../src/core/errors.js';
import type { Interval } from '../../src/core/types.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { lastBarTimes, readParquetBars } from '../../src/writers/parquet-reader.js';
import { storeKey } from '../../src/writers/stream-store.js';
import {
  StreamingDuckDBWriter,
  type StreamingDuckDBWriterOptions,
} from '../../src/writers/streaming-duckdb-writer.js';
import { bar, describeParquet, GO_SCHEMA, HOSTILE_NAME, tempDir } from './helpers.js';

async function openWriter(
  dir: string,
  options: StreamingDuckDBWriterOptions = {},
): Promise<StreamingDuckDBWriter> {
  const writer = new StreamingDuckDBWriter(dir, 'binance', '1m', options);
  onTestFinished(() => writer.close().catch(() => undefined));
  await writer.initialize();
  return writer;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('StreamingDuckDBWriter', () => {
  it('writes stream_data_{provider}_{interval}.parquet with the Go schema, beside its store', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    await writer.write(bar('BTCUSDT', 0));
    expect(await writer.finalize()).toBe(join(dir, 'stream_data_binance_1m.parquet'));
    expect(writer.getOutputPath()).toBe(join(dir, 'stream_data_binance_1m.parquet'));
    expect(writer.getStorePath()).toBe(join(dir, 'stream_data_binance_1m.duckdb'));

    expect(await describeParquet(writer.getOutputPath())).toEqual(GO_SCHEMA);
    expect(await readParquetBars(writer.getOutputPath())).toEqual([bar('BTCUSDT', 0)]);
  });

  it('upserts by (symbol, time): a later write of the same bar replaces it', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    await writer.write(bar('BTCUSDT', 0, { close: 1 }));
    await writer.write(bar('BTCUSDT', 0, { close: 2, id: 'second' }));
    await writer.writeBatch([
      bar('BTCUSDT', 1, { close: 3 }),
      bar('ETHUSDT', 0),
      bar('BTCUSDT', 1, { close: 4, id: 'last-in-batch' }),
    ]);
    await writer.writeBatch([bar('ETHUSDT', 0, { volume: 42 })]);
    await writer.finalize();

    expect(await readParquetBars(writer.getOutputPath())).toEqual([
      bar('BTCUSDT', 0, { close: 2, id: 'second' }),
      bar('BTCUSDT', 1, { close: 4, id: 'last-in-batch' }),
      bar('ETHUSDT', 0, { volume: 42 }),
    ]);
  });

  it('replaces stored bars from a batch that also holds new ones (plain INSERT falls back)', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    await writer.writeBatch([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
    await writer.writeBatch([bar('BTCUSDT', 1, { close: 9 }), bar('BTCUSDT', 2)]);
    await writer.finalize();
    expect(await readParquetBars(writer.getOutputPath())).toEqual([
      bar('BTCUSDT', 0),
      bar('BTCUSDT', 1, { close: 9 }),
      bar('BTCUSDT', 2),
    ]);
  });

  it('stores none of a batch that holds an invalid bar', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    const bad = bar('BTCUSDT', 1, {
      open: Number.NaN as unknown as number,
      time: 'x' as unknown as Date,
    });
    await expect(writer.writeBatch([bar('BTCUSDT', 0), bad])).rejects.toMatchObject({
      code: 'WRITER',
      message: expect.stringContaining('invalid bar'),
    });
    await writer.write(bar('BTCUSDT', 2));
    await writer.finalize();
    expect(await readParquetBars(writer.getOutputPath())).toEqual([bar('BTCUSDT', 2)]);
  });

  it('keeps every bar of concurrent, unawaited writes', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    const bars = Array.from({ length: 100 }, (_, i) => bar(i % 2 ? 'ETHUSDT' : 'BTCUSDT', i));
    await Promise.all(bars.map((b) => writer.write(b)));
    await writer.finalize();
    const stored = await readParquetBars(writer.getOutputPath());
    expect(stored).toHaveLength(100);
    expect(new Set(stored.map((b) => b.id))).toEqual(new Set(bars.map((b) => b.id)));
  });

  it('keeps the last write of a bar when single writes and a batch of it are in flight together', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    const version = (close: number) => bar('BTCUSDT', 0, { close });
    await Promise.all([
      writer.write(version(1)),
      writer.write(bar('ETHUSDT', 0)),
      writer.writeBatch([version(2), bar('ETHUSDT', 1)]),
      // Must not join the group queued before the batch, or the batch's older bar would win.
      writer.write(version(3)),
      writer.write(bar('ETHUSDT', 2)),
    ]);
    await writer.flush();
    const stored = await readParquetBars(writer.getOutputPath());
    expect(stored.map((b) => [b.symbol, b.close])).toEqual([
      ['BTCUSDT', 3],
      ['ETHUSDT', bar('ETHUSDT', 0).close],
      ['ETHUSDT', bar('ETHUSDT', 1).close],
      ['ETHUSDT', bar('ETHUSDT', 2).close],
    ]);
  });

  it('resolves each of many concurrent writes only once its bar is in the store', async () => {
    const dir = await tempDir();
    const writer = await openWriter(dir);
    const acked: number[] = [];
    const writes = Array.from({ length: 300 }, (_, i) =>
      writer.write(bar('BTCUSDT', i)).then(() => acked.push(i)),
    );
    await Promise.all(writes);
    expect(acked).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await writer.flush();
    expect(await readParquetBars(writer.getOutputPath())).toHaveLength(300);
  });

  it('reloads what an earlier run stored and adds to it', async () => {
    const dir = await tempDir();
    const first = await openWriter(dir);
    await first.writeBatch([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
    await first.close();

    const second = await openWriter(dir);
    expect(await readParquetBars(second.getOutputPath())).toEqual([
      bar('BTCUSDT', 0),
      bar('BTCUSDT', 1),
    ]);
    await second.write(bar('BTCUSDT', 1, { close: 9 }));
    await second.write(bar('BTCUSDT', 2));
    await second.close();

    expect(await readParquetBars(second.getOutputPath())).toEqual([
      bar('BTCUSDT', 0),
      bar('BTCUSDT', 1, { close: 9 }),
      bar('BTCUSDT', 2),
    ]);
    expect(await lastBarTimes(second.getOutputPath())).toEqual(
      new Map([['BTCUSDT', bar('BTCUSDT', 2).time]]),
    );
  });

  it('imports an existing Parquet file when its store is gone (e.g. a file from DuckDBWriter)', async () => {
    const dir = await tempDir();
    const download = new DuckDBWriter(join(dir, 'stream_data_binance_1m.parquet'));
    await download.initialize();
    await download.writeBatch([bar('BTCUSDT', 0), bar('BTCUSDT', 0, { id: 'dup' }), bar('X', 5)]);
    await download.finalize();
    await download.close();

    const writer = await openWriter(dir);
    await writer.write(bar('BTCUSDT', 1));
    await writer.finalize();
    const stored = await readParquetBars(writer.getOutputPath());
    expect(stored.map((b) => [b.symbol, b.time.getTime()])).toEqual([
      ['BTCUSDT', bar('BTCUSDT', 0).time.getTime()],
      ['BTCUSDT', bar('BTCUSDT', 1).time.getTime()],
      ['X', bar('X', 5).time.getTime()],
    ]);

    await writer.close();
    await rm(writer.getStorePath());
    const again = await openWriter(dir);
    expect(await readParquetBars(again.getOutputPath())).toEqual(stored);
  });

  it('refuses a corrupt Parquet file at initialize, naming it and leaving it untouched', async () => {
    const dir = await tempDir();
    const first = await openWriter(dir);
    await first.writeBatch(Array.from({ length: 500 }, (_, i) => bar('BTCUSDT', i)));
    await first.close();
    const path = first.getOutputPath();
    await rm(first.getStorePath());
    await truncate(path, 100);
    const truncated = await readFile(path);

    const writer = new StreamingDuckDBWriter(dir, 'binance', '1m');
    onTestFinished(() => writer.close());
    const error = await rejection(writer.initialize());
    expect(error).toBeInstanceOf(MarketDataError);
    expect(error).toMatchObject({ code: 'WRITER' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('move it aside or delete it');
    expect(await readFile(path)).toEqual(truncated);

    await writeFile(path, 'not parquet at all');
    const other = new StreamingDuckDBWriter(dir, 'binance', '1m');
    await expect(other.initialize()).rejects.toMatchObject({ code: 'WRITER' });
    await other.close();
  });

  it('refreshes the Parquet file in the background within refreshIntervalMs', async () => {
    const dir = await tempDir();
    let onRefresh: (path: string) => void = () => undefined;
    const writer = await openWriter(dir, {
      refreshIntervalMs: 20,
      onRefresh: (path) => onRefresh(path),
    });
    const refreshed = new Promise<string>((resolve) => {
      onRefresh = resolve;
    });
    await writer.write(bar('BTCUSDT', 0));
    const path = await bounded(refreshed, 3000, 'no background refresh');
    expect(await readParquetBars(path)).toEqual([bar('BTCUSDT', 0)]);
  });

  it('works under a hostile directory name and leaves no temporary files', async () => {
    const dir = join(await tempDir(), HOSTILE_NAME.replace('?', ''));
    const writer = await openWriter(dir);
    await writer.writeBatch([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
    await writer.close();
    expect((await readdir(dir)).sort()).toEqual([
      'stream_data_binance_1m.duckdb',
      'stream_data_binance_1m.parquet',
    ]);
    expect(await readParquetBars(writer.getOutputPath())).toEqual([
      bar('BTCUSDT', 0),
      bar('BTCUSDT', 1),
    ]);
  });

  it('rejects use before initialize and after close; close is idempotent', async () => {
    const dir = await tempDir();
    const writer = new StreamingDuckDBWriter(dir, 'binance', '1m');
    await expect(writer.write(bar('BTCUSDT', 0))).rejects.toMatchObject({
      code: 'WRITER',
      message: expect.stringContaining('write before initialize()'),
    });
    await writer.initialize();
    await writer.close();
    await writer.close();
    for (const attempt of [
      () => writer.write(bar('BTCUSDT', 0)),
      () => writer.writeBatch([bar('BTCUSDT', 0)]),
      () => writer.flush(),
      () => writer.finalize(),
      () => writer.initialize(),
    ]) {
      expect(await rejection(attempt())).toMatchObject({
        code: 'WRITER',
        message: expect.stringContaining('after close()'),
      });
    }
  });

  it('refuses a second writer on an open store, then allows it once the first closes', async () => {
    const dir = await tempDir();
    const first = await openWriter(dir);
    await first.write(bar('BTCUSDT', 0));
    const second = new StreamingDuckDBWriter(join(dir, '.', ''), 'binance', '1m');
    onTestFinished(() => second.close());
    await expect(second.initialize()).rejects.toMatchObject({
      code: 'WRITER',
      message: expect.stringContaining('has this store open'),
    });
    await first.close();
    await second.initialize();
    await second.write(bar('BTCUSDT', 1));
    await second.finalize();
    expect(await readParquetBars(second.getOutputPath())).toEqual([
      bar('BTCUSDT', 0),
      bar('BTCUSDT', 1),
    ]);
  });

  it('keeps 1m and 1M stores apart where case matters, and leaves no probe file', async () => {
    const dir = await tempDir();
    const minutes = await openWriter(dir);
    const months = new StreamingDuckDBWriter(dir, 'binance', '1M');
    onTestFinished(() => months.close());
    await months.initialize();
    await minutes.write(bar('BTCUSDT', 0));
    await months.write(bar('BTCUSDT', 0, { close: 7 }));
    await minutes.finalize();
    await months.finalize();
    expect(months.getOutputPath()).not.toBe(minutes.getOutputPath());
    expect((await readParquetBars(months.getOutputPath()))[0]?.close).toBe(7);
    expect((await readParquetBars(minutes.getOutputPath()))[0]?.close).toBe(
      bar('BTCUSDT', 0).close,
    );
    expect((await readdir(dir)).filter((name) => name.includes('case-probe'))).toEqual([]);
  });

  it('folds case in the store registry where the file system ignores it (macOS, Windows)', () => {
    const [minute, month] = ['stream_data_binance_1m.duckdb', 'stream_data_binance_1M.duckdb'];
    expect(storeKey('/d', minute, true)).toBe(storeKey('/d', month, true));
    expect(storeKey('/d', minute, false)).not.toBe(storeKey('/d', month, false));
  });

  it.each([['Binance'], ['../x'], ['a b'], [''], ['a/b']])(
    'rejects provider name %j with CONFIG_INVALID',
    (name) => {
      expect(() => new StreamingDuckDBWriter('data', name, '1m')).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', field: 'providerName' }),
      );
    },
  );

  it("rejects a data directory containing '?' (DuckDB cannot open such a store)", () => {
    expect(() => new StreamingDuckDBWriter('data?x', 'binance', '1m')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'dataDir' }),
    );
  });

  it('rejects an unknown interval and a bad refresh interval with CONFIG_INVALID', () => {
    expect(() => new StreamingDuckDBWriter('data', 'binance', '2m' as Interval)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'interval' }),
    );
    expect(
      () => new StreamingDuckDBWriter('data', 'binance', '1m', { refreshIntervalMs: 0 }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'refreshIntervalMs' }));
  });
});

async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
