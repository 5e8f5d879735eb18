import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';
import type { BatchWriter, MarketData, MarketDataWriter } from '../core/types.js';
import { publishFile, removeQuietly, tempPathFor } from './atomic-file.js';
import {
  appendBar,
  type CheckedBar,
  checkBar,
  MARKET_DATA_COLUMNS_SQL,
  MARKET_DATA_SELECT_SQL,
  writerError,
} from './parquet-schema.js';

type State = 'new' | 'open' | 'closed';

/**
 * Collects bars in an in-memory DuckDB table and writes them as one Parquet file on `finalize`.
 * Used by downloads. The file has the Go writer's schema, rows ordered by (symbol, time), and
 * appears atomically: until `finalize` succeeds there is no file at `outputPath` (or the old one).
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
  #state: State = 'new';
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #appender: DuckDBAppender | undefined;

  /** @param outputPath the Parquet file to produce; its directory is created on `finalize`. */
  constructor(outputPath: string) {
    if (typeof outputPath !== 'string' || outputPath.trim() === '') {
      throw new ConfigError('outputPath', 'DuckDBWriter needs a non-empty output file path');
    }
    this.#outputPath = outputPath;
  }

  /** Opens the in-memory database and creates `market_data`. A second call does nothing. */
  async initialize(): Promise<void> {
    if (this.#state === 'open') return;
    if (this.#state === 'closed') throw this.#closedError('initialize');
    try {
      this.#instance = await DuckDBInstance.create(':memory:');
      this.#connection = await this.#instance.connect();
      await this.#connection.run(`CREATE TABLE market_data (${MARKET_DATA_COLUMNS_SQL})`);
      this.#appender = await this.#connection.createAppender('market_data');
      this.#state = 'open';
    } catch (error) {
      this.#release();
      throw writerError('cannot open the in-memory DuckDB for', this.#outputPath, error);
    }
  }

  /** Appends one bar (buffered by the appender; nothing is on disk before `finalize`). */
  async write(data: MarketData): Promise<void> {
    const appender = this.#openAppender('write');
    const checked = checkBar(data, this.#outputPath);
    try {
      appendBar(appender, checked);
    } catch (error) {
      throw writerError('cannot append a bar for', this.#outputPath, error);
    }
  }

  /** Appends many bars. All are checked first, so a bad bar appends none of them. */
  async writeBatch(data: MarketData[]): Promise<void> {
    const appender = this.#openAppender('writeBatch');
    const checked: CheckedBar[] = new Array(data.length);
    for (let i = 0; i < data.length; i++)
      checked[i] = checkBar(data[i] as MarketData, this.#outputPath);
    try {
      for (const row of checked) appendBar(appender, row);
    } catch (error) {
      throw writerError('cannot append bars for', this.#outputPath, error);
    }
  }

  /**
   * Writes every bar so far to `outputPath` as Parquet, ordered by (symbol, time): first to a
   * temporary file in the same directory, then renamed into place. Resolves to the path.
   */
  async finalize(): Promise<string> {
    const appender = this.#openAppender('finalize');
    const connection = this.#connection as DuckDBConnection;
    const tempPath = tempPathFor(this.#outputPath);
    try {
      appender.flushSync();
      await mkdir(dirname(this.#outputPath), { recursive: true });
      // The file name is a bound parameter: no path is ever pasted into SQL.
      await connection.run(
        `COPY (SELECT ${MARKET_DATA_SELECT_SQL} FROM market_data ORDER BY symbol, time) TO $1 (FORMAT PARQUET)`,
        [tempPath],
      );
      await publishFile(tempPath, this.#outputPath);
      return this.#outputPath;
    } catch (error) {
      await removeQuietly(tempPath);
      throw writerError('cannot write the Parquet file', this.#outputPath, error);
    }
  }

  /** Releases the database. Safe to call twice and without `finalize` (then no file is written). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#release();
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

  #release(): void {
    try {
      this.#appender?.closeSync();
    } catch {
      // Rows that failed to flush are being discarded anyway: close() means "give up".
    }
    this.#connection?.closeSync();
    this.#instance?.closeSync();
    this.#appender = undefined;
    this.#connection = undefined;
    this.#instance = undefined;
  }
}
