import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { MarketData } from '../src/core/types.js';
import { DuckDBWriter } from '../src/writers/duckdb-writer.js';
import { bindBar, MARKET_DATA_COLUMNS_SQL } from '../src/writers/parquet-schema.js';
import { StreamingDuckDBWriter } from '../src/writers/streaming-duckdb-writer.js';
import { downloadWriterRows } from './download-writer.js';
import type { Bench, BenchRow } from './report.js';

/** Rows per download run (both the appender and the INSERT-per-row baseline). */
const DOWNLOAD_ROWS = 100_000;
/** The INSERT-per-row baseline is ~100x slower; fewer rows give the same rate in less time. */
const BASELINE_ROWS = 10_000;
/** Binance's klines page: what a download hands to writeBatch at a time. */
const DOWNLOAD_BATCH = 1000;
const SMALL_STORE_ROWS = 1000;
const LARGE_STORE_ROWS = 1_000_000;
/** Timed single writes per store size. */
const TIMED_WRITES = 600;
/** Interleaved rounds of the single-writer row (TIMED_WRITES / rounds writes each side each). */
const SINGLE_WRITER_ROUNDS = 6;
/** Short enough that background exports of the 1M-row store run while writes are timed. */
const REFRESH_INTERVAL_MS = 500;
/** Concurrent writers for the group-commit row: 1,000 symbols closing the same second. */
const CONCURRENT_WRITERS = 1000;
/** Rounds of CONCURRENT_WRITERS writes each. */
const CONCURRENT_ROUNDS = 20;

const BASE_MS = Date.UTC(2020, 0, 1);

function barAt(symbol: string, index: number): MarketData {
  return {
    id: '',
    symbol,
    time: new Date(BASE_MS + index * 60_000),
    open: 100 + (index % 97),
    high: 101 + (index % 89),
    low: 99 + (index % 83),
    close: 100.5 + (index % 79),
    volume: index % 1000,
  };
}

/**
 * Storage benchmarks: download writer throughput against the Go approach (one prepared INSERT per
 * row), and streaming write latency with 1k vs 1M rows stored (flat means the ratio stays ~1).
 */
export const storageBench: Bench = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'argo-bench-storage-'));
  try {
    const appenderRowsPerSec = await duckDBWriterRowsPerSec(join(dir, 'download.parquet'));
    const insertRowsPerSec = await preparedInsertRowsPerSec();
    const small = await streamingWriteLatency(join(dir, 'small'), SMALL_STORE_ROWS);
    const large = await streamingWriteLatency(join(dir, 'large'), LARGE_STORE_ROWS);
    const single = await singleWriterAgainstCommit(dir);
    const concurrent = await concurrentDurableBarsPerSec(join(dir, 'concurrent'));
    const storeWorkload = `${TIMED_WRITES} single writes, refresh every ${REFRESH_INTERVAL_MS} ms`;
    const rows: BenchRow[] = [
      {
        name: 'storage: DuckDBWriter.writeBatch',
        workload: `${DOWNLOAD_ROWS.toLocaleString('en-US')} rows in batches of ${DOWNLOAD_BATCH}, in-memory`,
        value: appenderRowsPerSec,
        baseline: `one prepared INSERT per row (Go), ${BASELINE_ROWS.toLocaleString('en-US')} rows`,
        baselineValue: insertRowsPerSec,
        unit: 'rows/s',
        ratio: appenderRowsPerSec / insertRowsPerSec,
        ratioMeaning: 'faster',
      },
      latencyRow('p50', large.p50Ms, small.p50Ms, storeWorkload),
      latencyRow('mean', large.meanMs, small.meanMs, storeWorkload),
      latencyRow('p99', large.p99Ms, small.p99Ms, storeWorkload),
      {
        name: 'storage: StreamingDuckDBWriter.write p50 @1M',
        workload:
          '1M rows stored; baseline = one full Parquet export, which the Go writer does per write',
        value: large.p50Ms,
        baseline: 'full re-export per write (Go)',
        baselineValue: large.exportMs,
        unit: 'ms',
        ratio: large.exportMs / large.p50Ms,
        ratioMeaning: 'faster (baseline / value)',
      },
      {
        name: 'storage: StreamingDuckDBWriter.write p50, one writer',
        workload: `${TIMED_WRITES} awaited writes one after another, 1k rows stored, in ${SINGLE_WRITER_ROUNDS} rounds interleaved with the baseline's (same disk), p50 of each side's pooled samples`,
        value: single.writeP50Ms,
        baseline: 'one-row INSERT commit in a DuckDB file (WAL fsync), p50',
        baselineValue: single.commitP50Ms,
        unit: 'ms',
        ratio: single.writeP50Ms / single.commitP50Ms,
        ratioMeaning: 'of one commit (goal <= 1.5)',
      },
      {
        name: 'storage: durable bars/s, 1,000 concurrent writers',
        workload: `${CONCURRENT_ROUNDS} rounds of ${CONCURRENT_WRITERS} unawaited write() calls (one per symbol, same second), each round awaited`,
        value: concurrent.groupBarsPerSec,
        baseline: 'the same writes awaited one by one',
        baselineValue: concurrent.serialBarsPerSec,
        unit: 'bars/s',
        ratio: concurrent.groupBarsPerSec / concurrent.serialBarsPerSec,
        ratioMeaning: 'faster (goal >= 20,000 bars/s)',
      },
      ...(await downloadWriterRows()),
    ];
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

function latencyRow(stat: string, largeMs: number, smallMs: number, workload: string): BenchRow {
  return {
    name: `storage: StreamingDuckDBWriter.write ${stat}`,
    workload: `${workload}; value @1M rows stored, baseline @1k`,
    value: largeMs,
    baseline: '1k rows stored',
    baselineValue: smallMs,
    unit: 'ms',
    ratio: largeMs / smallMs,
    ratioMeaning: 'of the 1k latency (1.0 = flat; lower is better)',
  };
}

async function duckDBWriterRowsPerSec(outputPath: string): Promise<number> {
  const batches: MarketData[][] = [];
  for (let start = 0; start < DOWNLOAD_ROWS; start += DOWNLOAD_BATCH) {
    batches.push(Array.from({ length: DOWNLOAD_BATCH }, (_, i) => barAt('BTCUSDT', start + i)));
  }
  const writer = new DuckDBWriter(outputPath);
  await writer.initialize();
  try {
    const startedMs = performance.now();
    for (const batch of batches) await writer.writeBatch(batch);
    await writer.finalize();
    return DOWNLOAD_ROWS / ((performance.now() - startedMs) / 1000);
  } finally {
    await writer.close();
  }
}

// The Go writer's way: one bound INSERT per row into the same in-memory table.
async function preparedInsertRowsPerSec(): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE market_data (${MARKET_DATA_COLUMNS_SQL})`);
    const insert = await connection.prepare(
      'INSERT INTO market_data VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    );
    const bars = Array.from({ length: BASELINE_ROWS }, (_, i) => barAt('BTCUSDT', i));
    const startedMs = performance.now();
    for (const bar of bars) {
      bindBar(insert, { bar, timeMicros: BigInt(bar.time.getTime()) * 1000n });
      await insert.run();
    }
    const rowsPerSec = BASELINE_ROWS / ((performance.now() - startedMs) / 1000);
    insert.destroySync();
    return rowsPerSec;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * One awaited `StreamingDuckDBWriter.write` (1k rows stored) against the floor of a durable
 * write, one fsync'd one-row INSERT commit into a DuckDB file on the same disk: INTERLEAVED
 * rounds of each, p50 of each side's pooled samples, so a slow stretch of the disk or the CPU
 * lands on both sides instead of on whichever ran then.
 */
async function singleWriterAgainstCommit(
  dir: string,
): Promise<{ writeP50Ms: number; commitP50Ms: number }> {
  const writer = new StreamingDuckDBWriter(join(dir, 'single'), 'bench', '1m', {
    refreshIntervalMs: REFRESH_INTERVAL_MS,
  });
  await writer.initialize();
  const instance = await DuckDBInstance.create(join(dir, 'commit.duckdb'));
  const connection = await instance.connect();
  try {
    await writer.writeBatch(
      Array.from({ length: SMALL_STORE_ROWS }, (_, i) => barAt('PRELOAD', i)),
    );
    await connection.run(`CREATE TABLE market_data (${MARKET_DATA_COLUMNS_SQL})`);
    const insert = await connection.prepare(
      'INSERT INTO market_data VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    );
    const ours: number[] = [];
    const floor: number[] = [];
    const perRound = TIMED_WRITES / SINGLE_WRITER_ROUNDS;
    for (let round = 0; round < SINGLE_WRITER_ROUNDS; round++) {
      for (let i = round * perRound; i < (round + 1) * perRound; i++) {
        const startedMs = performance.now();
        await writer.write(barAt('BTCUSDT', i));
        ours.push(performance.now() - startedMs);
      }
      for (let i = round * perRound; i < (round + 1) * perRound; i++) {
        const bar = barAt('BTCUSDT', i);
        const startedMs = performance.now();
        bindBar(insert, {
          bar: { ...bar, id: `id-${i}` },
          timeMicros: BigInt(bar.time.getTime()) * 1000n,
        });
        await insert.run();
        floor.push(performance.now() - startedMs);
      }
    }
    insert.destroySync();
    const p50 = (samples: number[]): number =>
      [...samples].sort((x, y) => x - y)[samples.length >> 1] ?? Number.NaN;
    return { writeP50Ms: p50(ours), commitP50Ms: p50(floor) };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await writer.close();
  }
}

/** Durable bars/s: rounds of 1,000 concurrent writes (group commit) vs awaited one by one. */
async function concurrentDurableBarsPerSec(
  dataDir: string,
): Promise<{ groupBarsPerSec: number; serialBarsPerSec: number }> {
  const writer = new StreamingDuckDBWriter(dataDir, 'bench', '1s', { refreshIntervalMs: 60_000 });
  await writer.initialize();
  const symbols = Array.from({ length: CONCURRENT_WRITERS }, (_, i) => `SYM${i}`);
  try {
    const startedMs = performance.now();
    for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
      await Promise.all(symbols.map((symbol) => writer.write(barAt(symbol, round))));
    }
    const groupBarsPerSec =
      (CONCURRENT_WRITERS * CONCURRENT_ROUNDS) / ((performance.now() - startedMs) / 1000);
    const serialStartedMs = performance.now();
    for (const symbol of symbols.slice(0, 300)) await writer.write(barAt(symbol, 1_000_000));
    const serialBarsPerSec = 300 / ((performance.now() - serialStartedMs) / 1000);
    return { groupBarsPerSec, serialBarsPerSec };
  } finally {
    await writer.close();
  }
}

interface Latency {
  p50Ms: number;
  meanMs: number;
  p99Ms: number;
  /** One full export of the store to Parquet (what the Go writer does on every write). */
  exportMs: number;
}

async function streamingWriteLatency(dataDir: string, storedRows: number): Promise<Latency> {
  const writer = new StreamingDuckDBWriter(dataDir, 'bench', '1m', {
    refreshIntervalMs: REFRESH_INTERVAL_MS,
  });
  await writer.initialize();
  try {
    const chunk = 100_000;
    for (let start = 0; start < storedRows; start += chunk) {
      const size = Math.min(chunk, storedRows - start);
      await writer.writeBatch(Array.from({ length: size }, (_, i) => barAt('PRELOAD', start + i)));
    }
    const exportStartedMs = performance.now();
    await writer.flush();
    const exportMs = performance.now() - exportStartedMs;

    const samplesMs: number[] = [];
    for (let i = 0; i < TIMED_WRITES; i++) {
      const bar = barAt('BTCUSDT', i);
      const startedMs = performance.now();
      await writer.write(bar);
      samplesMs.push(performance.now() - startedMs);
    }
    samplesMs.sort((a, b) => a - b);
    const at = (q: number) =>
      samplesMs[Math.min(samplesMs.length - 1, Math.floor(q * samplesMs.length))] ?? 0;
    const meanMs = samplesMs.reduce((sum, ms) => sum + ms, 0) / samplesMs.length;
    return { p50Ms: at(0.5), meanMs, p99Ms: at(0.99), exportMs };
  } finally {
    await writer.close();
  }
}
