// The DuckDB side of a StreamingDuckDBWriter: open, prepare, merge and release the durable store.

import { mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { debuglog } from 'node:util';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBPreparedStatement,
} from '@duckdb/node-api';
import type { MarketDataError } from '../core/errors.js';
import { escapeGlob } from './atomic-file.js';
import { createBarChunk } from './bar-chunks.js';
import { ParquetRefresher, removeStaleExports } from './parquet-refresher.js';
import {
  type CheckedBar,
  MARKET_DATA_COLUMNS_SQL,
  MARKET_DATA_SELECT_SQL,
  writerError,
} from './parquet-schema.js';

const debug = debuglog('argo-market-data:writer');

/** Stores opened by writers of this process: {@link storeKey} → the path as the writer named it. */
const storesOpenInProcess = new Map<string, string>();

/**
 * The DuckDB resources of one StreamingDuckDBWriter. {@link openStore} sets each field as soon as
 * it exists, so {@link releaseStore} closes exactly what a failed open got to.
 */
export interface StreamStore {
  instance: DuckDBInstance | undefined;
  writeConnection: DuckDBConnection | undefined;
  exportConnection: DuckDBConnection | undefined;
  upsert: DuckDBPreparedStatement | undefined;
  /** Plain INSERT of one row: DuckDB's upsert costs ~15x a commit, so it runs only on conflict. */
  insert: DuckDBPreparedStatement | undefined;
  stageAppender: DuckDBAppender | undefined;
  /** The data chunk the staging appender is fed through (reused; see createBarChunk). */
  stageChunk: DuckDBDataChunk | undefined;
  refresher: ParquetRefresher | undefined;
  storeKey: string | undefined;
  /** This initialize created the store file (so a failed initialize removes it again). */
  createdStore: boolean;
}

/** Where a {@link StreamStore} lives and how its Parquet file is kept up to date. */
export interface StreamStoreOptions {
  dataDir: string;
  parquetPath: string;
  storePath: string;
  refreshIntervalMs: number;
  onRefreshError: ((error: MarketDataError) => void) | undefined;
  onRefresh: ((parquetPath: string) => void) | undefined;
}

/** A store with nothing open yet, for a writer before `initialize`. */
export function emptyStore(): StreamStore {
  return {
    instance: undefined,
    writeConnection: undefined,
    exportConnection: undefined,
    upsert: undefined,
    insert: undefined,
    stageAppender: undefined,
    stageChunk: undefined,
    refresher: undefined,
    storeKey: undefined,
    createdStore: false,
  };
}

// DuckDB's file lock keeps other processes out, but not a second database opened on the same
// file in this process; two of them would corrupt it. So this process keeps its own registry.
async function claimStore(store: StreamStore, options: StreamStoreOptions): Promise<void> {
  const dir = await realpath(options.dataDir);
  const key = storeKey(dir, basename(options.storePath), await ignoresCase(dir));
  const holder = storesOpenInProcess.get(key);
  if (holder !== undefined) {
    throw writerError(
      basename(holder) === basename(options.storePath)
        ? 'another StreamingDuckDBWriter in this process has this store open; close it first'
        : `this file system ignores case, so this store is the same file as ${basename(holder)}, ` +
            'which another StreamingDuckDBWriter in this process has open (1m and 1M streams ' +
            'share a file name there): give them separate data directories',
      options.storePath,
    );
  }
  storesOpenInProcess.set(key, options.storePath);
  store.storeKey = key;
}

/**
 * The registry key of the store `name` in the real directory `dir`: names that differ only in
 * case are one file where the file system ignores case (macOS and Windows by default).
 */
export function storeKey(dir: string, name: string, caseInsensitive: boolean): string {
  return join(dir, caseInsensitive ? name.toLowerCase() : name);
}

const caseInsensitiveDirs = new Map<string, boolean>();

/** Whether `dir` ignores case in file names: creates a probe file and looks it up upper-cased. */
async function ignoresCase(dir: string): Promise<boolean> {
  const known = caseInsensitiveDirs.get(dir);
  if (known !== undefined) return known;
  const name = `.argo-case-probe-${process.pid}-${Date.now().toString(36)}`;
  const probe = join(dir, name);
  let result = false;
  try {
    await writeFile(probe, '', { flag: 'wx' });
    result = await stat(join(dir, name.toUpperCase())).then(
      () => true,
      () => false,
    );
  } catch {
    // An unwritable directory fails at the store's creation with a clear error; assume case.
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
  caseInsensitiveDirs.set(dir, result);
  return result;
}

/**
 * Opens (or creates) the store file, its two connections (writes, exports), the `market_data`
 * table, the staging table and the upsert statement, then merges in an existing Parquet file.
 * On failure the caller runs {@link releaseStore} and {@link removeCreatedStore}.
 */
export async function openStore(store: StreamStore, options: StreamStoreOptions): Promise<void> {
  try {
    await mkdir(options.dataDir, { recursive: true });
  } catch (error) {
    throw writerError('cannot create the data directory', options.dataDir, error);
  }
  await claimStore(store, options);
  try {
    await removeStaleExports(options.parquetPath);
    store.createdStore = !(await stat(options.storePath).then(
      () => true,
      () => false,
    ));
    store.instance = await DuckDBInstance.create(options.storePath);
  } catch (error) {
    throw writerError(
      'cannot open the stream store; is another writer using it, or is it not a DuckDB file?',
      options.storePath,
      error,
    );
  }
  try {
    store.writeConnection = await store.instance.connect();
    store.exportConnection = await store.instance.connect();
    store.refresher = new ParquetRefresher({
      connection: store.exportConnection,
      parquetPath: options.parquetPath,
      refreshIntervalMs: options.refreshIntervalMs,
      onRefresh: options.onRefresh,
      onBackgroundError: (error) => {
        if (options.onRefreshError) options.onRefreshError(error);
        else debug('background refresh failed: %s', error.message);
      },
    });
    await store.writeConnection.run(
      `CREATE TABLE IF NOT EXISTS market_data (${MARKET_DATA_COLUMNS_SQL}, PRIMARY KEY (symbol, time))`,
    );
    await store.writeConnection.run(`CREATE TEMP TABLE stage (${MARKET_DATA_COLUMNS_SQL})`);
    store.stageAppender = await store.writeConnection.createAppender('stage', 'main', 'temp');
    store.stageChunk = createBarChunk();
    store.upsert = await store.writeConnection.prepare(
      'INSERT OR REPLACE INTO market_data VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    );
    store.insert = await store.writeConnection.prepare(
      'INSERT INTO market_data VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    );
  } catch (error) {
    throw writerError('cannot prepare the stream store', options.storePath, error);
  }
  await mergeExistingParquet(store.writeConnection, options.parquetPath);
}

// The store is the source of truth, but the Parquet file may hold rows the store lacks (the
// store was deleted, or the file came from another tool). Those are added; stored rows win.
async function mergeExistingParquet(
  connection: DuckDBConnection,
  parquetPath: string,
): Promise<void> {
  const exists = await stat(parquetPath).then(
    (info) => info.isFile(),
    () => false,
  );
  if (!exists) return;
  try {
    await connection.run(
      `INSERT OR IGNORE INTO market_data
         SELECT ${MARKET_DATA_SELECT_SQL} FROM read_parquet($1)
          WHERE symbol IS NOT NULL AND time IS NOT NULL
         QUALIFY row_number() OVER (PARTITION BY symbol, time) = 1`,
      [escapeGlob(parquetPath)],
    );
  } catch (error) {
    throw writerError(
      'existing file cannot be read as a Parquet file of bars; it was left untouched: move it aside or delete it, then initialize again',
      parquetPath,
      error,
    );
  }
}

/**
 * Removes the store file (and its write-ahead log) if this failed initialize created it.
 * A store this failed initialize created holds nothing of value (at most rows merged from the
 * Parquet file, which stays); leaving it would be a half-made output beside the user's file.
 */
export async function removeCreatedStore(store: StreamStore, storePath: string): Promise<void> {
  if (!store.createdStore) return;
  store.createdStore = false;
  await rm(storePath, { force: true });
  await rm(`${storePath}.wal`, { force: true });
}

/** Stops the refresher, closes everything opened, and frees the store for this process again. */
export function releaseStore(store: StreamStore): void {
  store.refresher?.stop();
  store.refresher = undefined;
  try {
    store.stageAppender?.closeSync();
  } catch {
    // the staging table holds nothing worth keeping
  }
  store.upsert?.destroySync();
  store.insert?.destroySync();
  store.exportConnection?.closeSync();
  store.writeConnection?.closeSync();
  store.instance?.closeSync();
  store.stageAppender = undefined;
  store.stageChunk = undefined;
  store.upsert = undefined;
  store.insert = undefined;
  store.exportConnection = undefined;
  store.writeConnection = undefined;
  store.instance = undefined;
  if (store.storeKey !== undefined) storesOpenInProcess.delete(store.storeKey);
  store.storeKey = undefined;
}

/**
 * One row per (symbol, time), the last one given, for a batch upsert.
 * INSERT OR REPLACE refuses to touch one key twice in a statement, and the last write of a bar
 * is the one that counts.
 */
export function latestPerBar(rows: CheckedBar[]): CheckedBar[] {
  const byKey = new Map<string, CheckedBar>();
  for (const row of rows) byKey.set(`${row.bar.symbol}\u0000${row.timeMicros}`, row);
  return byKey.size === rows.length ? rows : [...byKey.values()];
}
