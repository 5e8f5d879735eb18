import { join } from 'node:path';
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { ConfigError, type MarketDataError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import type { BatchWriter, Interval, MarketData, MarketDataWriter } from '../core/types.js';
import { timedCommit, WriterMetrics, type WriterMetricsOption } from '../metrics/writer-metrics.js';
import { commitGroup, commitRows, type PendingWrite } from './group-commit.js';
import { checkBar, writerError } from './parquet-schema.js';
import {
  emptyStore,
  openStore,
  releaseStore,
  removeCreatedStore,
  type StreamStore,
} from './stream-store.js';

/** Our choice: the Parquet file lags acknowledged writes by at most this (plus one export). */
export const DEFAULT_REFRESH_INTERVAL_MS = 5000;

/** Provider names become part of a file name, so only these characters are allowed. */
const PROVIDER_NAME = /^[a-z0-9_-]{1,64}$/;

/** Options of {@link StreamingDuckDBWriter}. */
export interface StreamingDuckDBWriterOptions extends WriterMetricsOption {
  /**
   * How far the Parquet file may lag behind acknowledged writes while writing, in ms. Default 5000.
   * For a large store the gap also grows to 4× the duration of the last export, so refreshing
   * never takes more than a fifth of the time.
   */
  refreshIntervalMs?: number;
  /** Called when a background refresh of the Parquet file fails (the bars stay in the store). */
  onRefreshError?: (error: MarketDataError) => void;
  /** Called after each time the Parquet file was replaced by a fresh export. */
  onRefresh?: (parquetPath: string) => void;
}

/** The files of one stream: the Parquet output and the durable DuckDB store beside it. */
export function streamFilePaths(
  dataDir: string,
  providerName: string,
  interval: Interval,
): { parquetPath: string; storePath: string } {
  const stem = `stream_data_${providerName}_${interval}`;
  return {
    parquetPath: join(dataDir, `${stem}.parquet`),
    storePath: join(dataDir, `${stem}.duckdb`),
  };
}

type State = 'new' | 'open' | 'closing' | 'closed';

/**
 * Persists a live stream. Every bar goes into a DuckDB database file beside the Parquet output
 * (`stream_data_{provider}_{interval}.duckdb`, keyed by (symbol, time), so a later write of the
 * same bar replaces it): once `write()` resolves, the bar is committed to DuckDB's write-ahead log
 * and survives `kill -9`. The Parquet file `stream_data_{provider}_{interval}.parquet` is exported
 * from that store on a second connection, off the write path, and replaced atomically: on
 * `flush()`, `finalize()`, `close()` and at most `refreshIntervalMs` after a write. The cost of a
 * write therefore does not grow with the number of rows stored.
 *
 * `initialize` reopens the store and merges in any rows of an existing Parquet file that the store
 * lacks, so nothing an earlier run (or another tool) left is lost.
 *
 * @example
 * const writer = new StreamingDuckDBWriter('data', 'binance', '1m');
 * await writer.initialize();
 * try {
 *   for await (const [bar, err] of provider.stream(signal)) {
 *     if (err) continue;
 *     await writer.write(bar);
 *   }
 *   await writer.finalize();
 * } finally {
 *   await writer.close();
 * }
 */
export class StreamingDuckDBWriter implements MarketDataWriter, BatchWriter {
  readonly #dataDir: string;
  readonly #parquetPath: string;
  readonly #storePath: string;
  readonly #refreshIntervalMs: number;
  readonly #onRefreshError: ((error: MarketDataError) => void) | undefined;
  readonly #onRefresh: ((parquetPath: string) => void) | undefined;
  readonly #metrics: WriterMetrics | undefined;

  #state: State = 'new';
  #closing: Promise<void> | undefined;
  readonly #store: StreamStore = emptyStore();

  // Store operations run one at a time: a prepared statement's bindings and the staging table are
  // shared, and concurrent callers must not interleave them.
  #tail: Promise<void> = Promise.resolve();
  // Writes waiting for the commit already queued for them; later writes join until it starts.
  #openGroup: PendingWrite[] | undefined;

  /**
   * @param dataDir directory of the output; created by `initialize`
   * @param providerName lower-case letters, digits, `_` or `-` (it becomes part of the file name)
   * @param interval the bar interval (part of the file name)
   */
  constructor(
    dataDir: string,
    providerName: string,
    interval: Interval,
    options: StreamingDuckDBWriterOptions = {},
  ) {
    if (typeof dataDir !== 'string' || dataDir.trim() === '') {
      throw new ConfigError('dataDir', 'StreamingDuckDBWriter needs a non-empty data directory');
    }
    if (dataDir.includes('?')) {
      // DuckDB reads `?` in a database path as the start of options and then cannot find its
      // write-ahead log (it looks for `a.wal?b/...`), so such a store would fail at first commit.
      throw new ConfigError(
        'dataDir',
        `data directory ${JSON.stringify(dataDir)} contains '?', which DuckDB cannot use in a database path; choose another directory`,
      );
    }
    if (typeof providerName !== 'string' || !PROVIDER_NAME.test(providerName)) {
      throw new ConfigError(
        'providerName',
        `invalid provider name ${JSON.stringify(providerName)}: use 1-64 of a-z, 0-9, _ and - (it becomes part of a file name)`,
      );
    }
    if (!isInterval(interval)) {
      throw new ConfigError(
        'interval',
        `invalid interval ${JSON.stringify(interval)}: use one of 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M`,
      );
    }
    const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (!Number.isFinite(refreshIntervalMs) || refreshIntervalMs <= 0) {
      throw new ConfigError(
        'refreshIntervalMs',
        `invalid refreshIntervalMs ${refreshIntervalMs}: use a positive number of milliseconds`,
      );
    }
    this.#dataDir = dataDir;
    ({ parquetPath: this.#parquetPath, storePath: this.#storePath } = streamFilePaths(
      dataDir,
      providerName,
      interval,
    ));
    this.#refreshIntervalMs = refreshIntervalMs;
    this.#onRefreshError = options.onRefreshError;
    this.#onRefresh = options.onRefresh;
    this.#metrics =
      options.metrics === undefined
        ? undefined
        : new WriterMetrics(options.metrics, {
            writer: 'streaming-duckdb',
            venue: providerName,
            interval,
          });
  }

  /**
   * Opens (or creates) the store, merges in an existing Parquet file's rows and writes a current
   * Parquet file. A Parquet file that cannot be read is left untouched and fails with `WRITER`.
   */
  async initialize(): Promise<void> {
    if (this.#state === 'open') return;
    if (this.#state !== 'new') throw this.#unusableError('initialize');
    try {
      await openStore(this.#store, {
        dataDir: this.#dataDir,
        parquetPath: this.#parquetPath,
        storePath: this.#storePath,
        refreshIntervalMs: this.#refreshIntervalMs,
        onRefreshError: this.#onRefreshError,
        onRefresh: this.#onRefresh,
      });
    } catch (error) {
      this.#release();
      await removeCreatedStore(this.#store, this.#storePath);
      throw error;
    }
    this.#state = 'open';
    try {
      await this.flush();
    } catch (error) {
      // Leave the writer as if initialize had not run, so it can be retried or dropped.
      this.#release();
      await removeCreatedStore(this.#store, this.#storePath);
      this.#state = 'new';
      throw error;
    }
    this.#store.createdStore = false;
  }

  /**
   * Stores one bar (replacing a stored bar of the same symbol and time); durable on resolve.
   * Writes made while an earlier commit runs (many symbols closing the same second) share the
   * next transaction; each still resolves only once that transaction is committed.
   */
  async write(data: MarketData): Promise<void> {
    this.#requireOpen('write');
    const row = checkBar(data, this.#parquetPath);
    return new Promise<void>((resolve, reject) => {
      let group = this.#openGroup;
      if (group === undefined) {
        const opened: PendingWrite[] = [];
        group = opened;
        this.#openGroup = opened;
        // Never rejects: commitGroup settles each write's own promise.
        void this.#enqueue(() => {
          if (this.#openGroup === opened) this.#openGroup = undefined;
          return commitGroup(this.#store, opened, this.#storePath, this.#metrics);
        });
      }
      group.push({ row, resolve, reject });
    });
  }

  /** Stores many bars in one transaction: all of them or none. Within the batch the last wins. */
  async writeBatch(data: MarketData[]): Promise<void> {
    this.#requireOpen('writeBatch');
    const rows = data.map((bar) => checkBar(bar, this.#parquetPath));
    if (rows.length === 0) return;
    // Later single writes must not join a group queued before this batch: they would commit
    // first, and the batch's older bar would replace theirs.
    this.#openGroup = undefined;
    return this.#enqueue(async () => {
      await timedCommit(this.#metrics, rows.length, () =>
        commitRows(this.#store, rows, this.#storePath),
      );
      this.#store.refresher?.markDirty();
    });
  }

  /** Waits for pending writes, then rewrites the Parquet file (atomically) if it is behind. */
  async flush(): Promise<void> {
    if (this.#state !== 'open' && this.#state !== 'closing') throw this.#unusableError('flush');
    await this.#tail;
    await this.#store.refresher?.refresh();
  }

  /** Flushes and returns the Parquet file's path. The writer stays usable. */
  async finalize(): Promise<string> {
    await this.flush();
    return this.#parquetPath;
  }

  /**
   * Waits for pending writes, brings the Parquet file up to date and releases everything. Safe to
   * call twice or without `finalize`. Throws (after releasing) if the last refresh failed; the
   * bars are still in the store and reach the Parquet file on the next `initialize`.
   */
  async close(): Promise<void> {
    if (this.#state === 'new' || this.#state === 'closed') {
      this.#state = 'closed';
      return;
    }
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  /** The Parquet file: `{dataDir}/stream_data_{provider}_{interval}.parquet`. */
  getOutputPath(): string {
    return this.#parquetPath;
  }

  /** The durable store beside it: `{dataDir}/stream_data_{provider}_{interval}.duckdb`. */
  getStorePath(): string {
    return this.#storePath;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #shutDown(): Promise<void> {
    this.#state = 'closing';
    this.#store.refresher?.stop();
    let failure: unknown;
    try {
      await this.flush();
    } catch (error) {
      failure = error;
    }
    this.#release();
    this.#state = 'closed';
    if (failure !== undefined) throw failure;
  }

  #requireOpen(operation: string): DuckDBPreparedStatement {
    if (this.#state === 'open' && this.#store.upsert) return this.#store.upsert;
    throw this.#unusableError(operation);
  }

  #unusableError(operation: string): MarketDataError {
    if (this.#state === 'new') {
      return writerError(
        `${operation} before initialize(); call initialize() first`,
        this.#parquetPath,
      );
    }
    return writerError(`${operation} after close(); create a new writer`, this.#parquetPath);
  }

  #release(): void {
    releaseStore(this.#store);
  }
}
