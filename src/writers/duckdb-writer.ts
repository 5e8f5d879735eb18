import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
} from '@duckdb/node-api';
import { ConfigError, MarketDataError } from '../core/errors.js';
import type { BatchWriter, MarketData, MarketDataWriter } from '../core/types.js';
import { timedCommit, WriterMetrics, type WriterMetricsOption } from '../metrics/writer-metrics.js';
import { escapeGlob, publishFile, removeQuietly, tempPathFor } from './atomic-file.js';
import { appendBarChunks, createBarChunk } from './bar-chunks.js';
import {
  appendBar,
  type CheckedBar,
  checkBar,
  MARKET_DATA_COLUMNS_SQL,
  MARKET_DATA_SELECT_SQL,
  writerError,
} from './parquet-schema.js';
import {
  DEFAULT_SPILL_ROWS,
  SPILL_DUCKDB_SETTINGS,
  SPILL_PART_ROW_GROUP_ROWS,
} from './parquet-spill.js';

type State = 'new' | 'open' | 'closed';

/** Options of {@link DuckDBWriter}. */
export interface DuckDBWriterOptions extends WriterMetricsOption {
  /**
   * Directory for the temporary DuckDB file that holds the rows until `finalize` (removed on
   * `close`). Default: the OS temporary directory (`TMPDIR`). Point it at a disk, not a RAM
   * file system, for very long ranges.
   */
  spillDirectory?: string;
  /** Rows kept in memory before they are written to a spill part. Default 122,880. */
  spillRows?: number;
}

/**
 * Collects bars in an in-memory DuckDB table and writes them as one Parquet file on `finalize`.
 * Used by downloads. The file has the Go writer's schema, rows ordered by (symbol, time), and
 * appears atomically: until `finalize` succeeds there is no file at `outputPath` (or the old one).
 * Memory stays flat as the range grows: every `spillRows` rows move to a Parquet part in a
 * temporary directory, and `finalize` merges the parts (removed on `close`).
 *
 * @example
 * const writer = new DuckDBWriter('data/BTCUSDT.parquet');
 * await writer.initialize();
 * try {
 *   await writer.writeBatch(bars);
 *   console.log(await writer.finalize());
 * } finally {
 *   await writer.close();
 * }
 */
export class DuckDBWriter implements MarketDataWriter, BatchWriter {
  readonly #outputPath: string;
  readonly #spillParent: string;
  readonly #spillRows: number;
  #state: State = 'new';
  #spillDir: string | undefined;
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #appender: DuckDBAppender | undefined;
  #chunk: DuckDBDataChunk | undefined;
  // Row appends sit in the appender's own buffer, which a data chunk would overtake.
  #rowsBuffered = false;
  #rowsInTable = 0;
  #spillParts = 0;
  // Downloads arrive in time order for one symbol; then the file needs no sort at finalize.
  #ordered = true;
  #lastSymbol: string | undefined;
  #lastTimeMicros = 0n;
  #inFlight: Promise<void> | undefined;
  readonly #metrics: WriterMetrics | undefined;
  /** Rows received, and those already counted durable by an earlier `finalize` (metrics). */
  #rowsReceived = 0;
  #rowsCounted = 0;

  /** @param outputPath the Parquet file to produce; its directory is created on `finalize`. */
  constructor(outputPath: string, options: DuckDBWriterOptions = {}) {
    if (typeof outputPath !== 'string' || outputPath.trim() === '') {
      throw new ConfigError('outputPath', 'DuckDBWriter needs a non-empty output file path');
    }
    const spill = options.spillDirectory;
    if (spill !== undefined && (typeof spill !== 'string' || spill.trim() === '')) {
      throw new ConfigError('spillDirectory', 'spillDirectory must be a non-empty directory path');
    }
    const spillRows = options.spillRows ?? DEFAULT_SPILL_ROWS;
    if (!Number.isSafeInteger(spillRows) || spillRows <= 0) {
      throw new ConfigError('spillRows', `invalid spillRows ${spillRows}: use a positive integer`);
    }
    this.#outputPath = outputPath;
    this.#spillParent = spill ?? tmpdir();
    this.#spillRows = spillRows;
    this.#metrics =
      options.metrics === undefined
        ? undefined
        : new WriterMetrics(options.metrics, { writer: 'duckdb', venue: '', interval: '' });
  }

  /**
   * Opens the in-memory database, creates `market_data` and a fresh spill directory under
   * `spillDirectory`. A second call does nothing.
   */
  async initialize(): Promise<void> {
    if (this.#state === 'open') return;
    if (this.#state === 'closed') throw this.#closedError('initialize');
    try {
      this.#spillDir = await mkdtemp(join(this.#spillParent, 'argo-download-'));
      this.#instance = await DuckDBInstance.create(':memory:', {
        ...SPILL_DUCKDB_SETTINGS,
        temp_directory: join(this.#spillDir, 'sort'),
      });
      this.#connection = await this.#instance.connect();
      await this.#createTable(this.#connection);
      this.#chunk = createBarChunk();
      this.#state = 'open';
    } catch (error) {
      await this.#release();
      throw writerError(
        `cannot open DuckDB with a spill directory in ${this.#spillParent} for`,
        this.#outputPath,
        error,
      );
    }
  }

  /** Appends one bar (buffered; nothing is at `outputPath` before `finalize`). */
  async write(data: MarketData): Promise<void> {
    const appender = this.#openAppender('write');
    const checked = checkBar(data, this.#outputPath);
    try {
      appendBar(appender, checked);
    } catch (error) {
      throw writerError('cannot append a bar for', this.#outputPath, error);
    }
    this.#rowsBuffered = true;
    this.#track(checked);
    this.#rowsInTable += 1;
    this.#rowsReceived += 1;
    if (this.#rowsInTable >= this.#spillRows) await this.#exclusive(() => this.#spill());
  }

  /** Appends many bars. All are checked first, so a bad bar appends none of them. */
  async writeBatch(data: MarketData[]): Promise<void> {
    this.#openAppender('writeBatch');
    const checked: CheckedBar[] = new Array(data.length);
    for (let i = 0; i < data.length; i++)
      checked[i] = checkBar(data[i] as MarketData, this.#outputPath);
    // A batch larger than spillRows goes in slices, each spilled in turn: memory stays flat.
    for (let start = 0; start < checked.length; ) {
      if (this.#state !== 'open') throw this.#closedError('writeBatch');
      const end = Math.min(checked.length, start + this.#spillRows - this.#rowsInTable);
      try {
        if (this.#rowsBuffered) (this.#appender as DuckDBAppender).flushSync();
        this.#rowsBuffered = false;
        const slice = start === 0 && end === checked.length ? checked : checked.slice(start, end);
        appendBarChunks(this.#appender as DuckDBAppender, this.#chunk as DuckDBDataChunk, slice);
      } catch (error) {
        throw writerError('cannot append bars for', this.#outputPath, error);
      }
      for (let i = start; i < end; i++) this.#track(checked[i] as CheckedBar);
      this.#rowsInTable += end - start;
      this.#rowsReceived += end - start;
      start = end;
      if (this.#rowsInTable >= this.#spillRows) await this.#exclusive(() => this.#spill());
    }
  }

  async #createTable(connection: DuckDBConnection): Promise<void> {
    await connection.run(`CREATE TABLE market_data (${MARKET_DATA_COLUMNS_SQL})`);
    this.#appender = await connection.createAppender('market_data');
    this.#rowsInTable = 0;
  }

  // The table's rows become the next Parquet part, and a fresh table takes the following rows.
  // Dropping the table (not DELETE) is what returns its memory.
  async #spill(): Promise<void> {
    const appender = this.#appender as DuckDBAppender;
    const connection = this.#connection as DuckDBConnection;
    try {
      appender.flushSync();
      appender.closeSync();
      this.#appender = undefined;
      this.#rowsBuffered = false;
      const part = join(
        this.#spillDir as string,
        `part-${String(this.#spillParts).padStart(8, '0')}.parquet`,
      );
      await connection.run(
        `COPY market_data TO $1 (FORMAT PARQUET, ROW_GROUP_SIZE ${SPILL_PART_ROW_GROUP_ROWS})`,
        [part],
      );
      this.#spillParts += 1;
      await connection.run('DROP TABLE market_data');
      await this.#createTable(connection);
    } catch (error) {
      throw writerError(`cannot spill rows to ${this.#spillDir} for`, this.#outputPath, error);
    }
  }

  #track(row: CheckedBar): void {
    if (!this.#ordered) return;
    const symbol = row.bar.symbol;
    if (this.#lastSymbol === undefined) this.#lastSymbol = symbol;
    else if (symbol !== this.#lastSymbol || row.timeMicros < this.#lastTimeMicros) {
      this.#ordered = false;
      return;
    }
    this.#lastTimeMicros = row.timeMicros;
  }

  /**
   * Writes every bar so far to `outputPath` as Parquet, ordered by (symbol, time): first to a
   * temporary file in the same directory, then renamed into place. Resolves to the path.
   */
  async finalize(): Promise<string> {
    const received = this.#rowsReceived;
    const path = await timedCommit(this.#metrics, received - this.#rowsCounted, () =>
      this.#writeParquet(),
    );
    this.#rowsCounted = received;
    return path;
  }

  async #writeParquet(): Promise<string> {
    const appender = this.#openAppender('finalize');
    return this.#exclusive(() => this.#finalize(appender));
  }

  async #finalize(appender: DuckDBAppender): Promise<string> {
    const connection = this.#connection as DuckDBConnection;
    const tempPath = tempPathFor(this.#outputPath);
    try {
      appender.flushSync();
      this.#rowsBuffered = false;
      if (this.#spillParts > 0 && this.#rowsInTable > 0) await this.#spill();
      await mkdir(dirname(this.#outputPath), { recursive: true });
      // Rows already in (symbol, time) order keep it (DuckDB preserves insertion order, also
      // across the parts, read in name order), and the file is the same as a sorted one; only
      // out-of-order input pays for the sort, which spills to disk past SPILL_MEMORY_LIMIT.
      const order = this.#ordered ? '' : ' ORDER BY symbol, time';
      const source = this.#spillParts > 0 ? `read_parquet($2)` : 'market_data';
      const params =
        this.#spillParts > 0
          ? [tempPath, `${escapeGlob(this.#spillDir as string)}/part-*.parquet`]
          : [tempPath];
      // The file name is a bound parameter: no path is ever pasted into SQL.
      await connection.run(
        `COPY (SELECT ${MARKET_DATA_SELECT_SQL} FROM ${source}${order}) TO $1 (FORMAT PARQUET)`,
        params,
      );
      await publishFile(tempPath, this.#outputPath);
      return this.#outputPath;
    } catch (error) {
      await removeQuietly(tempPath);
      if (error instanceof MarketDataError) throw error;
      throw writerError('cannot write the Parquet file', this.#outputPath, error);
    }
  }

  /**
   * Releases the database and removes the spill file. Safe to call twice and without `finalize`
   * (then no file is written).
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    // A spill or finalize in flight ends first: DuckDB is never closed under a running COPY.
    await this.#inFlight;
    await this.#release();
  }

  async #exclusive<T>(body: () => Promise<T>): Promise<T> {
    const run = body();
    this.#inFlight = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** The path `finalize` writes, as given to the constructor. */
  getOutputPath(): string {
    return this.#outputPath;
  }

  #openAppender(operation: string): DuckDBAppender {
    if (this.#state === 'open' && this.#appender) return this.#appender;
    if (this.#state === 'closed') throw this.#closedError(operation);
    throw writerError(
      `${operation} before initialize(); call initialize() first`,
      this.#outputPath,
    );
  }

  #closedError(operation: string) {
    return writerError(`${operation} after close(); create a new writer`, this.#outputPath);
  }

  async #release(): Promise<void> {
    try {
      this.#appender?.closeSync();
    } catch {
      // Rows that failed to flush are being discarded anyway: close() means "give up".
    }
    this.#connection?.closeSync();
    this.#instance?.closeSync();
    this.#appender = undefined;
    this.#chunk = undefined;
    this.#connection = undefined;
    this.#instance = undefined;
    if (this.#spillDir !== undefined) await rm(this.#spillDir, { recursive: true, force: true });
    this.#spillDir = undefined;
  }
}
