// One month file of a dataset: the Go schema's rows of one series, ordered by time, plus a footer
// entry (Parquet key-value metadata) saying whose rows they are and which open times were checked
// against the venue. Data and coverage live in the same file, so one rename publishes both and a
// crash can never leave the one without the other.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { MarketDataError } from '../core/errors.js';
import type { MarketData } from '../core/types.js';
import { escapeGlob, publishFile, removeQuietly, tempPathFor } from '../writers/atomic-file.js';
import {
  appendBar,
  type CheckedBar,
  checkBar,
  MARKET_DATA_COLUMNS_SQL,
  MARKET_DATA_SELECT_SQL,
  reasonOf,
} from '../writers/parquet-schema.js';
import type { SeriesKey } from './layout.js';
import { isRangeList, type TimeRange } from './ranges.js';

/** The Parquet footer key of our metadata. */
export const DATASET_META_KEY = 'argo.dataset';
const FORMAT = 'argo-dataset';
const VERSION = 1;

/** What a month file says about itself. */
export interface MonthMeta extends SeriesKey {
  /** Open-time ranges inside this month that were fetched from the venue (merged, in order). */
  checked: TimeRange[];
}

/** A month file as found on disk. */
export type MonthFileState =
  | { kind: 'ok'; meta: MonthMeta; rows: number; firstMs?: number; lastMs?: number }
  | { kind: 'foreign' | 'corrupt'; reason: string };

const GO_COLUMNS = MARKET_DATA_COLUMNS_SQL.split(', ').map((column) => {
  const [name, type] = column.split(' ');
  return { name: name as string, type: type as string };
});

/** One in-memory DuckDB shared by every series a sync or a reader works on. */
export class DatasetDb {
  #instance: DuckDBInstance | undefined;
  #opening: Promise<DuckDBInstance> | undefined;
  readonly #connections = new Set<DuckDBConnection>();

  /** A new connection (each series uses its own, so temp tables never collide). */
  async connect(): Promise<DuckDBConnection> {
    this.#opening ??= DuckDBInstance.create(':memory:');
    this.#instance = await this.#opening;
    const connection = await this.#instance.connect();
    this.#connections.add(connection);
    return connection;
  }

  /** Closes a connection from {@link connect}. */
  release(connection: DuckDBConnection): void {
    if (this.#connections.delete(connection)) connection.closeSync();
  }

  /** Closes every connection and the database. */
  close(): void {
    for (const connection of this.#connections) connection.closeSync();
    this.#connections.clear();
    this.#instance?.closeSync();
    this.#instance = undefined;
    this.#opening = undefined;
  }
}

/**
 * Reads a month file's footer and statistics: ours and intact (`ok`), readable Parquet that is
 * not ours or not what its path says (`foreign`), or unreadable (`corrupt`). Never throws for a
 * bad file; the caller decides (a sync refuses to overwrite anything but `ok`).
 */
export async function inspectMonthFile(
  connection: DuckDBConnection,
  path: string,
  expected: SeriesKey,
  monthRange: { startMs: number; endMs: number },
): Promise<MonthFileState> {
  const glob = escapeGlob(path);
  let metaText: string | undefined;
  let columns: Array<{ name: string; type: string }>;
  let stats: { rows: number; firstMs?: number; lastMs?: number };
  try {
    const kv = await connection.runAndReadAll(
      'SELECT decode(key), decode(value) FROM parquet_kv_metadata($1)',
      [glob],
    );
    for (const [key, value] of kv.getRows()) if (key === DATASET_META_KEY) metaText = String(value);
    const described = await connection.runAndReadAll(
      'SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))',
      [glob],
    );
    columns = described
      .getRows()
      .map(([name, type]) => ({ name: String(name), type: String(type) }));
    if (!sameColumns(columns)) {
      return {
        kind: 'foreign',
        reason: `columns are not the Go schema (${MARKET_DATA_COLUMNS_SQL})`,
      };
    }
    const reader = await connection.runAndReadAll(
      'SELECT count(*), epoch_ms(min(time)), epoch_ms(max(time)), count(DISTINCT symbol), min(symbol) FROM read_parquet($1)',
      [glob],
    );
    const [rows, firstMs, lastMs, symbols, symbol] = reader.getRows()[0] ?? [];
    const count = Number(rows ?? 0);
    if (count > 0 && (Number(symbols) !== 1 || symbol !== expected.symbol)) {
      return { kind: 'foreign', reason: `rows are not all of symbol ${expected.symbol}` };
    }
    stats = {
      rows: count,
      ...(count > 0 ? { firstMs: Number(firstMs), lastMs: Number(lastMs) } : {}),
    };
  } catch (error) {
    return { kind: 'corrupt', reason: `not a readable Parquet file: ${reasonOf(error)}` };
  }
  if (metaText === undefined) {
    return {
      kind: 'foreign',
      reason: `no ${DATASET_META_KEY} footer entry: not written by a sync`,
    };
  }
  const meta = parseMeta(metaText);
  if (meta === undefined)
    return { kind: 'foreign', reason: `unreadable ${DATASET_META_KEY} entry` };
  for (const field of ['provider', 'interval', 'symbol'] as const) {
    if (meta[field] !== expected[field]) {
      return {
        kind: 'foreign',
        reason: `written for ${meta.provider} ${meta.interval} ${meta.symbol}, found under ${expected.provider}/${expected.interval}/${expected.symbol}`,
      };
    }
  }
  if (
    stats.firstMs !== undefined &&
    (stats.firstMs < monthRange.startMs || (stats.lastMs ?? 0) >= monthRange.endMs)
  ) {
    return { kind: 'foreign', reason: 'holds bars outside the month its name gives' };
  }
  return { kind: 'ok', meta, ...stats };
}

function sameColumns(columns: Array<{ name: string; type: string }>): boolean {
  return (
    columns.length === GO_COLUMNS.length &&
    columns.every((c, i) => c.name === GO_COLUMNS[i]?.name && c.type === GO_COLUMNS[i]?.type)
  );
}

function parseMeta(text: string): MonthMeta | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value.format !== FORMAT || value.version !== VERSION || !isRangeList(value.checked)) {
      return undefined;
    }
    if (typeof value.provider !== 'string' || typeof value.interval !== 'string') return undefined;
    if (typeof value.symbol !== 'string') return undefined;
    return {
      provider: value.provider as MonthMeta['provider'],
      interval: value.interval as MonthMeta['interval'],
      symbol: value.symbol,
      checked: value.checked,
    };
  } catch {
    return undefined;
  }
}

function metaJson(meta: MonthMeta): string {
  return JSON.stringify({
    format: FORMAT,
    version: VERSION,
    provider: meta.provider,
    interval: meta.interval,
    symbol: meta.symbol,
    checked: meta.checked,
  });
}

/**
 * Writes `path` atomically: the rows of `mergeFrom` (the month's current file, if any) with
 * `bars` upserted by time (a new bar replaces a stored one with the same open time), ordered by
 * time, with `meta` in the footer. Temp file + fsync + rename: readers and crashes see the old
 * file or the new one.
 */
export async function writeMonthFile(
  connection: DuckDBConnection,
  path: string,
  meta: MonthMeta,
  bars: readonly MarketData[],
  mergeFrom: string | undefined,
): Promise<void> {
  const checked: CheckedBar[] = bars.map((bar) => checkBar(bar, path));
  const tempPath = tempPathFor(path);
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE incoming (${MARKET_DATA_COLUMNS_SQL})`);
    const appender = await connection.createAppender('incoming');
    try {
      for (const row of checked) appendBar(appender, row);
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await mkdir(dirname(path), { recursive: true });
    const sources =
      mergeFrom === undefined
        ? `SELECT ${MARKET_DATA_SELECT_SQL}, 0 AS src FROM incoming`
        : `SELECT ${MARKET_DATA_SELECT_SQL}, 0 AS src FROM incoming
           UNION ALL SELECT ${MARKET_DATA_SELECT_SQL}, 1 AS src FROM read_parquet($2)`;
    // The metadata is a string literal (COPY options take no parameters); it is our own JSON,
    // and its quotes are doubled, so nothing in it can end the literal.
    const kv = metaJson(meta).replaceAll("'", "''");
    await connection.run(
      `COPY (SELECT ${MARKET_DATA_SELECT_SQL} FROM (${sources})
               QUALIFY row_number() OVER (PARTITION BY time ORDER BY src) = 1
               ORDER BY time)
         TO $1 (FORMAT PARQUET, KV_METADATA {'${DATASET_META_KEY}': '${kv}'})`,
      mergeFrom === undefined ? [tempPath] : [tempPath, escapeGlob(mergeFrom)],
    );
    await publishFile(tempPath, path);
  } catch (error) {
    await removeQuietly(tempPath);
    if (MarketDataError.is(error)) throw error;
    throw new MarketDataError('WRITER', `cannot write the month file ${path}: ${reasonOf(error)}`, {
      fatal: true,
      cause: error,
    });
  } finally {
    await connection.run('DROP TABLE IF EXISTS incoming').catch(() => undefined);
  }
}
