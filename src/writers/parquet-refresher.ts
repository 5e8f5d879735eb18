import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type MarketDataError, toMarketDataError } from '../core/errors.js';
import { publishFile, removeQuietly, tempPathFor } from './atomic-file.js';
import { MARKET_DATA_SELECT_SQL, writerError } from './parquet-schema.js';

/**
 * Our choice: after an export that took `d` ms, the next starts no sooner than `d × this` ms later,
 * so exports of a big table use at most a fifth of the time and leave the CPU to writes.
 */
const EXPORT_SPACING_FACTOR = 4;

/** What a {@link ParquetRefresher} exports from, where to, and whom it tells. */
export interface ParquetRefresherOptions {
  /** A connection of its own: exports run beside the writes, never on their connection. */
  connection: DuckDBConnection;
  parquetPath: string;
  refreshIntervalMs: number;
  onRefresh: ((parquetPath: string) => void) | undefined;
  /** Receives failures of background refreshes (flush() throws its own). */
  onBackgroundError: (error: MarketDataError) => void;
}

/**
 * Keeps a Parquet file in step with the `market_data` table of a DuckDB store: each export goes
 * to a temporary file that then replaces the output atomically, one export at a time, at most
 * `refreshIntervalMs` (or 4× the last export's duration) after the table changed.
 */
export class ParquetRefresher {
  readonly #options: ParquetRefresherOptions;
  #dirty = false;
  #exportedOnce = false;
  #exporting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastExportMs = 0;
  #stopped = false;

  constructor(options: ParquetRefresherOptions) {
    this.#options = options;
  }

  /** Records that the table changed and schedules a background refresh if none is pending. */
  markDirty(): void {
    this.#dirty = true;
    if (this.#timer !== undefined || this.#stopped) return;
    const delayMs = Math.max(
      this.#options.refreshIntervalMs,
      this.#lastExportMs * EXPORT_SPACING_FACTOR,
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.refresh().catch((error: unknown) =>
        this.#options.onBackgroundError(
          toMarketDataError(error, 'WRITER', 'background refresh failed', true),
        ),
      );
    }, delayMs);
    // A writer that the user forgot to close must not keep the process alive.
    this.#timer.unref();
  }

  /**
   * Exports now unless the file is already current. A call arriving during an export waits for
   * it, then exports again only if the table changed since (the running export may miss that).
   */
  async refresh(): Promise<void> {
    while (this.#exporting) await this.#exporting.catch(() => undefined);
    if (!this.#dirty && this.#exportedOnce) return;
    this.#dirty = false;
    const run = this.#export();
    this.#exporting = run;
    try {
      await run;
      this.#exportedOnce = true;
    } catch (error) {
      this.#dirty = true;
      throw error;
    } finally {
      if (this.#exporting === run) this.#exporting = undefined;
    }
  }

  /** No more background refreshes; an explicit refresh() still works. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #export(): Promise<void> {
    const { connection, parquetPath } = this.#options;
    const tempPath = tempPathFor(parquetPath);
    const startedMs = performance.now();
    try {
      await connection.run(
        `COPY (SELECT ${MARKET_DATA_SELECT_SQL} FROM market_data ORDER BY symbol, time) TO $1 (FORMAT PARQUET)`,
        [tempPath],
      );
      await publishFile(tempPath, parquetPath);
    } catch (error) {
      await removeQuietly(tempPath);
      throw writerError('cannot refresh the Parquet file', parquetPath, error);
    }
    this.#lastExportMs = performance.now() - startedMs;
    this.#options.onRefresh?.(parquetPath);
  }
}

/** Removes temporary exports that a killed process left beside `parquetPath`. */
export async function removeStaleExports(parquetPath: string): Promise<void> {
  const directory = dirname(parquetPath);
  const prefix = `.${basename(parquetPath)}.`;
  for (const name of await readdir(directory)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) {
      await removeQuietly(join(directory, name));
    }
  }
}
