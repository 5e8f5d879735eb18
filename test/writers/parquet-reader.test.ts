import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { lastBarTimes, readParquetBars } from '../../src/writers/parquet-reader.js';
import { bar, tempDir } from './helpers.js';

async function writeParquet(path: string, bars: ReturnType<typeof bar>[]): Promise<void> {
  const writer = new DuckDBWriter(path);
  await writer.initialize();
  try {
    await writer.writeBatch(bars);
    await writer.finalize();
  } finally {
    await writer.close();
  }
}

describe('Parquet readers', () => {
  it('lastBarTimes gives the last open time of each symbol', async () => {
    const path = join(await tempDir(), 'bars.parquet');
    await writeParquet(path, [
      bar('ETHUSDT', 7),
      bar('BTCUSDT', 3),
      bar('BTCUSDT', 9),
      bar('ETHUSDT', 1),
    ]);
    expect(await lastBarTimes(path)).toEqual(
      new Map([
        ['BTCUSDT', bar('BTCUSDT', 9).time],
        ['ETHUSDT', bar('ETHUSDT', 7).time],
      ]),
    );
  });

  it('lastBarTimes of a missing file is empty; readParquetBars of one is a WRITER error', async () => {
    const path = join(await tempDir(), 'missing.parquet');
    expect(await lastBarTimes(path)).toEqual(new Map());
    await expect(readParquetBars(path)).rejects.toMatchObject({
      code: 'WRITER',
      message: expect.stringContaining(path),
    });
  });

  it('reads exactly the named file even when glob characters in it match siblings', async () => {
    const dir = await tempDir();
    await writeParquet(join(dir, 'a?.parquet'), [bar('Q', 0)]);
    await writeParquet(join(dir, 'a1.parquet'), [bar('ONE', 0)]);
    await writeParquet(join(dir, 'b[1].parquet'), [bar('BRACKET', 0)]);
    await writeParquet(join(dir, 'b1.parquet'), [bar('B1', 0)]);
    expect(await readParquetBars(join(dir, 'a?.parquet'))).toEqual([bar('Q', 0)]);
    expect(await readParquetBars(join(dir, 'b[1].parquet'))).toEqual([bar('BRACKET', 0)]);
    expect(await lastBarTimes(join(dir, 'a?.parquet'))).toEqual(new Map([['Q', bar('Q', 0).time]]));
  });
});
