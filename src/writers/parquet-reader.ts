import { stat } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { MarketData } from '../core/types.js';
import { escapeGlob } from './atomic-file.js';
import { writerError } from './parquet-schema.js';

/**
 * Reads a Parquet file written by {@link DuckDBWriter} or {@link StreamingDuckDBWriter} (or by the
 * Go writer) back into bars, ordered by (symbol, time).
 * Throws a `WRITER` error naming the file when it is missing, unreadable or of another schema.
 *
 * @example
 * const bars = await readParquetBars('data/stream_data_binance_1m.parquet');
 */
export async function readParquetBars(path: string): Promise<MarketData[]> {
  return withConnection(path, 'cannot read bars from', async (connection) => {
    // epoch_ms accepts TIMESTAMP, TIMESTAMP_MS and TIMESTAMPTZ alike, and avoids time zones.
    const reader = await connection.runAndReadAll(
      `SELECT id, epoch_ms(time), symbol, open, high, low, close, volume
         FROM read_parquet($1) ORDER BY symbol, time`,
      [escapeGlob(path)],
    );
    const [ids, timesMs, symbols, opens, highs, lows, closes, volumes] = reader.getColumns();
    const bars: MarketData[] = new Array(reader.currentRowCount);
    for (let i = 0; i < bars.length; i++) {
      bars[i] = {
        id: (ids?.[i] ?? '') as string,
        symbol: (symbols?.[i] ?? '') as string,
        time: new Date(Number(timesMs?.[i] as bigint)),
        open: opens?.[i] as number,
        high: highs?.[i] as number,
        low: lows?.[i] as number,
        close: closes?.[i] as number,
        volume: volumes?.[i] as number,
      };
    }
    return bars;
  });
}

/**
 * The open time of the last stored bar of each symbol in a Parquet file of either writer: where a
 * resumed download or a stream's backfill should continue. A missing file gives an empty map.
 */
export async function lastBarTimes(path: string): Promise<Map<string, Date>> {
  const exists = await stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
  const last = new Map<string, Date>();
  if (!exists) return last;
  return withConnection(path, 'cannot read last bar times from', async (connection) => {
    const reader = await connection.runAndReadAll(
      'SELECT symbol, epoch_ms(max(time)) FROM read_parquet($1) GROUP BY symbol ORDER BY symbol',
      [escapeGlob(path)],
    );
    for (const [symbol, lastMs] of reader.getRows()) {
      last.set(symbol as string, new Date(Number(lastMs as bigint)));
    }
    return last;
  });
}

async function withConnection<T>(
  path: string,
  what: string,
  body: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    return await body(connection);
  } catch (error) {
    throw writerError(what, path, error);
  } finally {
    connection?.closeSync();
    instance?.closeSync();
  }
}
