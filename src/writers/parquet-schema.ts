import type { DuckDBAppender, DuckDBPreparedStatement } from '@duckdb/node-api';
import { DuckDBTimestampValue } from '@duckdb/node-api';
import { MarketDataError } from '../core/errors.js';
import type { MarketData } from '../core/types.js';

/**
 * Column list of the Go writer's `market_data` table, in its order. Files with this schema are
 * read by the Go Argo Trading engine, so neither names, types nor order may change.
 */
export const MARKET_DATA_COLUMNS_SQL =
  'id VARCHAR, time TIMESTAMP, symbol VARCHAR, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE';

/** The column names, in order, for SELECT lists. */
export const MARKET_DATA_SELECT_SQL = 'id, time, symbol, open, high, low, close, volume';

/** A bar checked for what DuckDB cannot take, with its open time in DuckDB's microseconds. */
export interface CheckedBar {
  bar: MarketData;
  timeMicros: bigint;
}

/**
 * Checks one bar before any of it reaches DuckDB: a half-appended row would corrupt the appender,
 * so everything is validated first. Throws a `WRITER` error naming the bar and the file.
 */
export function checkBar(bar: MarketData, outputPath: string): CheckedBar {
  const timeMs = bar?.time instanceof Date ? bar.time.getTime() : Number.NaN;
  if (
    !Number.isFinite(timeMs) ||
    typeof bar.symbol !== 'string' ||
    bar.symbol === '' ||
    typeof bar.id !== 'string' ||
    // NaN and Infinity are numbers, but a Parquet file of bars must not carry them.
    !Number.isFinite(bar.open) ||
    !Number.isFinite(bar.high) ||
    !Number.isFinite(bar.low) ||
    !Number.isFinite(bar.close) ||
    !Number.isFinite(bar.volume)
  ) {
    throw new MarketDataError(
      'WRITER',
      `invalid bar for ${outputPath}: ${describeBar(bar)}; a bar needs a non-empty symbol, a valid Date time, a string id and finite numeric OHLCV`,
      { fatal: true },
    );
  }
  return { bar, timeMicros: BigInt(timeMs) * 1000n };
}

function describeBar(bar: MarketData): string {
  try {
    return JSON.stringify(bar)?.slice(0, 200) ?? String(bar);
  } catch {
    return String(bar);
  }
}

/** Appends one checked bar as a full row (an empty id gets a fresh UUID, as the Go writer does). */
export function appendBar(appender: DuckDBAppender, checked: CheckedBar): void {
  const bar = checked.bar;
  appender.appendVarchar(bar.id === '' ? crypto.randomUUID() : bar.id);
  appender.appendTimestamp(new DuckDBTimestampValue(checked.timeMicros));
  appender.appendVarchar(bar.symbol);
  appender.appendDouble(bar.open);
  appender.appendDouble(bar.high);
  appender.appendDouble(bar.low);
  appender.appendDouble(bar.close);
  appender.appendDouble(bar.volume);
  appender.endRow();
}

/** Binds one checked bar to a statement whose 8 parameters follow the column order. */
export function bindBar(statement: DuckDBPreparedStatement, checked: CheckedBar): void {
  const bar = checked.bar;
  statement.bindVarchar(1, bar.id === '' ? crypto.randomUUID() : bar.id);
  statement.bindTimestamp(2, new DuckDBTimestampValue(checked.timeMicros));
  statement.bindVarchar(3, bar.symbol);
  statement.bindDouble(4, bar.open);
  statement.bindDouble(5, bar.high);
  statement.bindDouble(6, bar.low);
  statement.bindDouble(7, bar.close);
  statement.bindDouble(8, bar.volume);
}

/** The message part of anything thrown, for error texts. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // DuckDB appends the SQL and a caret on further lines; a message stays one line.
  return text.split('\n', 1)[0]?.trim() ?? '';
}

/** A `WRITER` error that names the file and carries the cause. */
export function writerError(what: string, path: string, cause?: unknown): MarketDataError {
  const reason = cause === undefined ? '' : `: ${reasonOf(cause)}`;
  return new MarketDataError('WRITER', `${what} (${path})${reason}`, { fatal: true, cause });
}
