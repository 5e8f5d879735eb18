import { readdirSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MarketDataError } from '../../src/core/errors.js';
import { BinanceProvider } from '../../src/providers/binance/provider.js';
import { BybitProvider } from '../../src/providers/bybit/provider.js';
import { OkxProvider } from '../../src/providers/okx/provider.js';
import { startSimulator } from '../../src/simulator/index.js';
import { DuckDBWriter } from '../../src/writers/duckdb-writer.js';
import { readParquetBars } from '../../src/writers/parquet-reader.js';
import { bar, describeParquet, GO_SCHEMA, HOSTILE_NAME, queryParquet, tempDir } from './helpers.js';

async function openWriter(path: string): Promise<DuckDBWriter> {
  const writer = new DuckDBWriter(path);
  onTestFinished(() => writer.close());
  await writer.initialize();
  return writer;
}

describe('DuckDBWriter', () => {
  it('writes the Go schema, in its column order, with Parquet TIMESTAMP micros', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = await openWriter(path);
    await writer.write(bar('BTCUSDT', 0));
    expect(await writer.finalize()).toBe(path);

    expect(await describeParquet(path)).toEqual(GO_SCHEMA);
    const physical = await queryParquet(
      "SELECT name, type, converted_type FROM parquet_schema($1) WHERE name <> 'duckdb_schema'",
      path,
    );
    expect(physical.map((row) => [row.name, row.type, row.converted_type])).toEqual([
      ['id', 'BYTE_ARRAY', 'UTF8'],
      ['time', 'INT64', 'TIMESTAMP_MICROS'],
      ['symbol', 'BYTE_ARRAY', 'UTF8'],
      ['open', 'DOUBLE', null],
      ['high', 'DOUBLE', null],
      ['low', 'DOUBLE', null],
      ['close', 'DOUBLE', null],
      ['volume', 'DOUBLE', null],
    ]);
  });

  it('round-trips values and millisecond timestamps, ordered by (symbol, time)', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = await openWriter(path);
    const bars = [bar('ETHUSDT', 2), bar('BTCUSDT', 1), bar('ETHUSDT', 0), bar('BTCUSDT', 0)];
    await writer.writeBatch(bars.slice(0, 2));
    await writer.write(bars[2] ?? bar('x', 0));
    await writer.write(bars[3] ?? bar('x', 0));
    await writer.finalize();

    const expected = [bar('BTCUSDT', 0), bar('BTCUSDT', 1), bar('ETHUSDT', 0), bar('ETHUSDT', 2)];
    expect(await readParquetBars(path)).toEqual(expected);
    const raw = await queryParquet('SELECT epoch_ms(time) AS ms FROM read_parquet($1)', path);
    expect(raw.map((row) => Number(row.ms))).toEqual(expected.map((b) => b.time.getTime()));
  });

  it('gives every bar with an empty id a fresh UUID, as the Go writer does', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = await openWriter(path);
    const bars = Array.from({ length: 100 }, (_, i) => bar('BTCUSDT', i, { id: '' }));
    await writer.writeBatch(bars.slice(0, 50));
    for (const b of bars.slice(50)) await writer.write(b);
    await writer.finalize();

    const ids = (await readParquetBars(path)).map((b) => b.id);
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
  });

  it('creates missing directories and works under a hostile directory name', async () => {
    const dir = join(await tempDir(), HOSTILE_NAME, 'nested');
    const path = join(dir, "bars 'quoted' [1].parquet");
    const writer = await openWriter(path);
    await writer.writeBatch([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
    expect(await writer.finalize()).toBe(path);

    expect(await readdir(dir)).toEqual(["bars 'quoted' [1].parquet"]);
    expect(await readParquetBars(path)).toEqual([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
  });

  it('replaces an existing file only when finalize succeeds, leaving no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.parquet');
    await writeFile(path, 'old contents');
    const writer = await openWriter(path);
    await writer.write(bar('BTCUSDT', 0));
    expect(await readFile(path, 'utf8')).toBe('old contents');
    await writer.finalize();
    expect(await readdir(dir)).toEqual(['out.parquet']);
    expect(await readParquetBars(path)).toEqual([bar('BTCUSDT', 0)]);
  });

  it('can finalize again after more writes, rewriting the whole file', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = await openWriter(path);
    await writer.write(bar('BTCUSDT', 1));
    await writer.finalize();
    await writer.write(bar('BTCUSDT', 0));
    await writer.finalize();
    expect(await readParquetBars(path)).toEqual([bar('BTCUSDT', 0), bar('BTCUSDT', 1)]);
  });

  it('writes no file when closed without finalize, and close is idempotent', async () => {
    const dir = await tempDir();
    const writer = new DuckDBWriter(join(dir, 'out.parquet'));
    await writer.close(); // never initialized
    const other = await openWriter(join(dir, 'other.parquet'));
    await other.write(bar('BTCUSDT', 0));
    await other.close();
    await other.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects use before initialize and after close with a WRITER error naming the file', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = new DuckDBWriter(path);
    await expect(writer.write(bar('BTCUSDT', 0))).rejects.toMatchObject({
      code: 'WRITER',
      message: `write before initialize(); call initialize() first (${path})`,
    });
    await writer.initialize();
    await writer.close();
    for (const attempt of [
      () => writer.write(bar('BTCUSDT', 0)),
      () => writer.writeBatch([bar('BTCUSDT', 0)]),
      () => writer.finalize(),
      () => writer.initialize(),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MarketDataError);
      expect(error).toMatchObject({
        code: 'WRITER',
        message: expect.stringContaining('after close()'),
      });
    }
  });

  it('rejects an invalid bar without appending any of its batch', async () => {
    const path = join(await tempDir(), 'out.parquet');
    const writer = await openWriter(path);
    const bad = bar('BTCUSDT', 1, { time: new Date(Number.NaN) });
    await expect(writer.writeBatch([bar('BTCUSDT', 0), bad])).rejects.toMatchObject({
      code: 'WRITER',
    });
    await writer.write(bar('BTCUSDT', 2));
    await writer.finalize();
    expect(await readParquetBars(path)).toEqual([bar('BTCUSDT', 2)]);
  });

  it('fails finalize with a WRITER error when the directory cannot be created', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    const path = join(dir, 'file', 'out.parquet');
    const writer = await openWriter(path);
    await writer.write(bar('BTCUSDT', 0));
    await expect(writer.finalize()).rejects.toMatchObject({
      code: 'WRITER',
      message: expect.stringContaining(path),
    });
  });

  it('spills to Parquet parts and writes the same bytes as a writer that never spilled', async () => {
    const dir = await tempDir();
    const spill = await tempDir();
    const inOrder = Array.from({ length: 500 }, (_, i) => bar('BTCUSDT', i));
    // Out of order and two symbols: this path sorts at finalize.
    const shuffled = [...inOrder, ...inOrder.map((b) => ({ ...b, symbol: 'AAAUSDT' }))].sort(
      (a, b) => ((a.time.getTime() * 7919) % 1009) - ((b.time.getTime() * 7919) % 1009),
    );
    for (const [name, bars] of [
      ['ordered', inOrder],
      ['shuffled', shuffled],
    ] as const) {
      const whole = join(dir, `${name}-whole.parquet`);
      const spilled = join(dir, `${name}-spilled.parquet`);
      const one = await openWriter(whole);
      const many = new DuckDBWriter(spilled, { spillDirectory: spill, spillRows: 64 });
      onTestFinished(() => many.close());
      await many.initialize();
      for (let start = 0; start < bars.length; start += 50) {
        await one.writeBatch(bars.slice(start, start + 50));
        await many.writeBatch(bars.slice(start, start + 50));
      }
      await many.write(bar('BTCUSDT', 10_000));
      await one.write(bar('BTCUSDT', 10_000));
      await one.finalize();
      await many.finalize();
      expect((await readdir(spill)).length).toBe(1); // the writer's own spill directory
      await many.close();
      expect(await readdir(spill)).toEqual([]);
      expect(await readFile(spilled)).toEqual(await readFile(whole));
      const read = await readParquetBars(spilled);
      expect(read).toHaveLength(bars.length + 1);
      const keys = read.map((b) => `${b.symbol} ${b.time.toISOString()}`);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it('rejects a bad spillRows or spillDirectory with CONFIG_INVALID', () => {
    for (const options of [{ spillRows: 0 }, { spillRows: 1.5 }, { spillDirectory: ' ' }]) {
      expect(() => new DuckDBWriter('out.parquet', options)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
  });

  it('rejects an empty output path with CONFIG_INVALID', () => {
    expect(() => new DuckDBWriter('')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('removes its spill parts when closed mid-write or after a failed finalize', async () => {
    const spill = await tempDir();
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    for (const path of [join(dir, 'out.parquet'), join(dir, 'file', 'out.parquet')]) {
      const writer = new DuckDBWriter(path, { spillDirectory: spill, spillRows: 64 });
      onTestFinished(() => writer.close());
      await writer.initialize();
      await writer.writeBatch(Array.from({ length: 300 }, (_, i) => bar('BTCUSDT', i)));
      const [own] = await readdir(spill);
      expect((await readdir(join(spill, own ?? ''))).length).toBeGreaterThanOrEqual(4);
      if (path.includes('file'))
        await expect(writer.finalize()).rejects.toMatchObject({ code: 'WRITER' });
      await writer.close();
      expect(await readdir(spill)).toEqual([]);
    }
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('close() during a spill waits for it, then leaves no spill file behind', async () => {
    const spill = await tempDir();
    const writer = new DuckDBWriter(join(await tempDir(), 'out.parquet'), {
      spillDirectory: spill,
      spillRows: 1000,
    });
    await writer.initialize();
    // The batch reaches spillRows: its promise is in the middle of writing a part when close() runs.
    const spilling = writer.writeBatch(Array.from({ length: 1000 }, (_, i) => bar('BTCUSDT', i)));
    const settled = spilling.then(
      () => 'written',
      (error: unknown) => error,
    );
    await writer.close();
    expect(await settled).toBe('written');
    expect(await readdir(spill)).toEqual([]);
  });

  it('a Binance download leaves no spill directory after success or abort', async () => {
    const sim = await startSimulator({ seed: 11, speed: 1, start: Date.UTC(2024, 5, 1) });
    onTestFinished(() => sim.close());
    const spill = await tempDir();
    const dir = await tempDir();
    // 1441 hourly bars in two pages of klines: spillRows 100 has spilled parts after the first.
    const range = {
      ticker: 'BTCUSDT',
      startDate: new Date(Date.UTC(2024, 0, 1)),
      endDate: new Date(Date.UTC(2024, 2, 1)),
      multiplier: 1,
      timespan: 'hour',
    } as const;
    for (const outcome of ['aborted', 'done'] as const) {
      const provider = new BinanceProvider({
        symbols: ['BTCUSDT'],
        interval: '1h',
        restBaseUrl: sim.binance.restUrl,
        wsBaseUrl: sim.binance.wsUrl,
        downloadConcurrency: 1,
      });
      const path = join(dir, `${outcome}.parquet`);
      provider.configWriter(new DuckDBWriter(path, { spillDirectory: spill, spillRows: 100 }));
      const ac = new AbortController();
      let parts = 0;
      const download = provider.download({
        ...range,
        signal: ac.signal,
        onProgress: (current) => {
          if (current === 0) return;
          const names = readdirSync(spill, { recursive: true }).map(String);
          parts = Math.max(parts, names.filter((name) => name.endsWith('.parquet')).length);
          if (outcome === 'aborted') ac.abort();
        },
      });
      if (outcome === 'aborted') {
        await expect(download).rejects.toMatchObject({ code: 'ABORTED' });
        expect(parts).toBe(10); // mid-write: the first page's 1000 bars are on disk
        expect(await readdir(dir)).toEqual([]);
      } else {
        expect(await download).toBe(path);
        expect(await readParquetBars(path)).toHaveLength(1441);
      }
      expect(await readdir(spill)).toEqual([]);
    }
    expect(await readdir(dir)).toEqual(['done.parquet']);
  });

  it('Bybit and OKX downloads leave no spill directory either (the shared paged download closes)', async () => {
    const sim = await startSimulator({ seed: 11, speed: 1, start: Date.UTC(2024, 5, 1) });
    onTestFinished(() => sim.close());
    const spill = await tempDir();
    const dir = await tempDir();
    const range = {
      startDate: new Date(Date.UTC(2024, 0, 1)),
      endDate: new Date(Date.UTC(2024, 0, 3)),
      multiplier: 1,
      timespan: 'hour',
    } as const;
    const providers = [
      new BybitProvider({
        symbols: ['BTCUSDT'],
        interval: '1h',
        restBaseUrl: sim.bybit.restUrl,
        wsBaseUrl: sim.bybit.wsUrl,
      }),
      new OkxProvider({
        symbols: ['BTC-USDT'],
        interval: '1h',
        restBaseUrl: sim.okx.restUrl,
        wsBaseUrl: sim.okx.wsUrl,
      }),
    ];
    for (const [index, provider] of providers.entries()) {
      const path = join(dir, `${index}.parquet`);
      provider.configWriter(new DuckDBWriter(path, { spillDirectory: spill, spillRows: 10 }));
      const ticker = index === 0 ? 'BTCUSDT' : 'BTC-USDT';
      expect(await provider.download({ ...range, ticker })).toBe(path);
      expect(await readParquetBars(path)).toHaveLength(49);
      expect(await readdir(spill)).toEqual([]);
    }
  });
});
