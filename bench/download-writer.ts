// DuckDBWriter (downloads): writeBatch against DuckDB's own chunk appender in the same run, and
// peak RSS of a fresh process writing 1M vs 10M rows (the spill keeps it flat).
//   child: node dist-bench/bench/download-writer.js <rows>   prints {"peakRssMb":…,"seconds":…}
//          node dist-bench/bench/download-writer.js throughput   prints {"ours":…,"ceiling":…}
// Peak RSS is the kernel's high-water mark (getrusage maxrss), not a sample that could miss it.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  DuckDBDataChunk,
  DuckDBDoubleType,
  DuckDBInstance,
  DuckDBTimestampType,
  DuckDBTimestampValue,
  type DuckDBValue,
  DuckDBVarCharType,
} from '@duckdb/node-api';
import type { MarketData } from '../src/core/types.js';
import { CHUNK_ROWS } from '../src/writers/bar-chunks.js';
import { DuckDBWriter } from '../src/writers/duckdb-writer.js';
import { MARKET_DATA_COLUMNS_SQL, MARKET_DATA_SELECT_SQL } from '../src/writers/parquet-schema.js';
import { SPILL_DUCKDB_SETTINGS, SPILL_MEMORY_LIMIT } from '../src/writers/parquet-spill.js';
import type { BenchRow } from './report.js';

/** Rows per throughput run (ours and the baseline). */
const THROUGHPUT_ROWS = 200_000;
/** Binance's klines page: what a download hands to writeBatch at a time. */
const PAGE_ROWS = 1000;
/** Interleaved rounds; the best round of each side counts (noise only ever slows a run down). */
const ROUNDS = 3;
const BASE_MS = Date.UTC(2020, 0, 1);
const MB = 2 ** 20;

function barAt(index: number): MarketData {
  return {
    id: '',
    symbol: 'BTCUSDT',
    time: new Date(BASE_MS + index * 1000),
    open: 100 + (index % 97),
    high: 101 + (index % 89),
    low: 99 + (index % 83),
    close: 100.5 + (index % 79),
    volume: index % 1000,
  };
}

/** Ours: pages of bars through writeBatch, then finalize (flush + COPY to Parquet). */
async function writerRowsPerSec(dir: string, pages: MarketData[][]): Promise<number> {
  const writer = new DuckDBWriter(join(dir, 'ours.parquet'), { spillDirectory: dir });
  await writer.initialize();
  try {
    const startedMs = performance.now();
    for (const page of pages) await writer.writeBatch(page);
    await writer.finalize();
    return THROUGHPUT_ROWS / ((performance.now() - startedMs) / 1000);
  } finally {
    await writer.close();
  }
}

/**
 * The ceiling: DuckDB's appender fed 2,048-row data chunks of precomputed values (UUIDs, DuckDB
 * timestamps), same 8 columns, same spill database settings, then the same COPY to Parquet.
 */
async function chunkAppenderRowsPerSec(dir: string): Promise<number> {
  const types = [
    DuckDBVarCharType.instance,
    DuckDBTimestampType.instance,
    DuckDBVarCharType.instance,
    ...Array.from({ length: 5 }, () => DuckDBDoubleType.instance),
  ];
  const chunks: DuckDBValue[][][] = [];
  for (let start = 0; start < THROUGHPUT_ROWS; start += CHUNK_ROWS) {
    const columns: DuckDBValue[][] = types.map(() => []);
    for (let i = start; i < Math.min(THROUGHPUT_ROWS, start + CHUNK_ROWS); i++) {
      const bar = barAt(i);
      const row: DuckDBValue[] = [
        crypto.randomUUID(),
        new DuckDBTimestampValue(BigInt(bar.time.getTime()) * 1000n),
        bar.symbol,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
      ];
      for (const [column, value] of row.entries()) columns[column]?.push(value);
    }
    chunks.push(columns);
  }
  const spillDir = await mkdtemp(join(dir, 'baseline-'));
  const instance = await DuckDBInstance.create(join(spillDir, 'rows.duckdb'), {
    ...SPILL_DUCKDB_SETTINGS,
    temp_directory: join(spillDir, 'sort'),
  });
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE market_data (${MARKET_DATA_COLUMNS_SQL})`);
    const appender = await connection.createAppender('market_data');
    const chunk = DuckDBDataChunk.create(types);
    const startedMs = performance.now();
    for (const columns of chunks) {
      chunk.reset();
      chunk.setColumns(columns);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    await connection.run(
      `COPY (SELECT ${MARKET_DATA_SELECT_SQL} FROM market_data) TO $1 (FORMAT PARQUET)`,
      [join(dir, 'baseline.parquet')],
    );
    const rowsPerSec = THROUGHPUT_ROWS / ((performance.now() - startedMs) / 1000);
    appender.closeSync();
    return rowsPerSec;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(spillDir, { recursive: true, force: true });
  }
}

interface RssResult {
  peakRssMb: number;
  seconds: number;
}

/** In this (fresh) process: `rows` bars in 1,000-row pages through a DuckDBWriter; peak RSS. */
async function writeRowsMeasuringRss(rows: number): Promise<RssResult> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-bench-rss-'));
  const writer = new DuckDBWriter(join(dir, 'out.parquet'), { spillDirectory: dir });
  const startedMs = performance.now();
  try {
    await writer.initialize();
    for (let start = 0; start < rows; start += PAGE_ROWS) {
      const page = Array.from({ length: Math.min(PAGE_ROWS, rows - start) }, (_, i) =>
        barAt(start + i),
      );
      await writer.writeBatch(page);
    }
    await writer.finalize();
    // maxRSS is in KiB: the process's peak resident set, whenever it happened.
    const peakRssMb = (process.resourceUsage().maxRSS * 1024) / MB;
    return { peakRssMb, seconds: (performance.now() - startedMs) / 1000 };
  } finally {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs this file in a fresh process with `arg` (a row count, or `throughput`); its JSON line. */
async function inChild<T>(arg: string): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [fileURLToPath(import.meta.url), arg],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

const rssInChild = (rows: number): Promise<RssResult> => inChild<RssResult>(String(rows));

/**
 * Best of ROUNDS interleaved rounds of ours and the chunk appender, in this process. Run in a
 * fresh child (like a download, which is its own CLI process): in the bench's own process the
 * heap left by the benches before it taxes our side's collector and not the baseline's, whose
 * values are precomputed outside the timing.
 */
async function throughputRounds(): Promise<{ ours: number; ceiling: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-bench-dlwriter-'));
  try {
    const pages: MarketData[][] = [];
    for (let start = 0; start < THROUGHPUT_ROWS; start += PAGE_ROWS) {
      pages.push(Array.from({ length: PAGE_ROWS }, (_, i) => barAt(start + i)));
    }
    let ours = 0;
    let ceiling = 0;
    for (let round = 0; round < ROUNDS; round++) {
      ceiling = Math.max(ceiling, await chunkAppenderRowsPerSec(dir));
      ours = Math.max(ours, await writerRowsPerSec(dir, pages));
    }
    return { ours, ceiling };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The download writer's rows: throughput against the chunk appender, RSS at 1M vs 10M rows. */
export async function downloadWriterRows(): Promise<BenchRow[]> {
  const { ours, ceiling } = await inChild<{ ours: number; ceiling: number }>('throughput');
  const million = await rssInChild(1_000_000);
  const tenMillion = await rssInChild(10_000_000);
  return [
    {
      name: 'storage: DuckDBWriter.writeBatch + finalize',
      workload: `${THROUGHPUT_ROWS.toLocaleString('en-US')} rows in pages of ${PAGE_ROWS}, spill DB (${SPILL_MEMORY_LIMIT}, ${SPILL_DUCKDB_SETTINGS.threads} thread), Parquet out; best of ${ROUNDS} interleaved rounds in a fresh process`,
      value: ours,
      baseline: `DuckDB appendDataChunk, ${CHUNK_ROWS}-row chunks of precomputed values, same columns + COPY`,
      baselineValue: ceiling,
      unit: 'rows/s',
      ratio: ours / ceiling,
      ratioMeaning: 'of the chunk appender (goal >= 0.9)',
    },
    {
      name: 'storage: DuckDBWriter peak RSS, 10M rows',
      workload: `fresh process each, 1s bars in pages of ${PAGE_ROWS} then finalize; peak RSS = getrusage maxrss; 10M took ${tenMillion.seconds.toFixed(0)} s, 1M ${million.seconds.toFixed(0)} s`,
      value: tenMillion.peakRssMb,
      baseline: '1M rows',
      baselineValue: million.peakRssMb,
      unit: 'MB',
      ratio: tenMillion.peakRssMb / million.peakRssMb,
      ratioMeaning: 'of the 1M RSS (1.0 = flat; goal <= 1.1)',
    },
    {
      name: 'storage: DuckDBWriter bars/s, 10M rows',
      workload: 'the same two runs, write + finalize (the merge of the spill parts) per second',
      value: 10_000_000 / tenMillion.seconds,
      baseline: '1M rows',
      baselineValue: 1_000_000 / million.seconds,
      unit: 'bars/s',
      ratio: 10_000_000 / tenMillion.seconds / (1_000_000 / million.seconds),
      ratioMeaning: 'of the 1M rate (1.0 = flat)',
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const arg = process.argv[2];
  const result =
    arg === 'throughput' ? await throughputRounds() : await writeRowsMeasuringRss(Number(arg));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
