import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { onTestFinished } from 'vitest';
import type { MarketData } from '../../src/core/types.js';

/** A fresh directory under the OS temp dir, removed when the test finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-writers-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const BASE_MS = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** Bar `index` of `symbol`: one-minute steps from a time with a non-zero millisecond part. */
export function bar(
  symbol: string,
  index: number,
  overrides: Partial<MarketData> = {},
): MarketData {
  return {
    id: `${symbol}-${index}`,
    symbol,
    time: new Date(BASE_MS + index * 60_000),
    open: 100.125 + index,
    high: 101.5 + index,
    low: 99.25 + index,
    close: 100.75 + index,
    volume: 0.1 + index,
    ...overrides,
  };
}

/** Runs one SQL query on a Parquet file (bound as `$1`) in a throwaway DuckDB; rows as JS values. */
export async function queryParquet(sql: string, path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql, [path]);
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The Go writer's schema: `DESCRIBE` of the file, as [name, type] pairs in column order. */
export async function describeParquet(path: string): Promise<[string, string][]> {
  const rows = await queryParquet('DESCRIBE SELECT * FROM read_parquet($1)', path);
  return rows.map((row) => [String(row.column_name), String(row.column_type)]);
}

export const GO_SCHEMA: [string, string][] = [
  ['id', 'VARCHAR'],
  ['time', 'TIMESTAMP'],
  ['symbol', 'VARCHAR'],
  ['open', 'DOUBLE'],
  ['high', 'DOUBLE'],
  ['low', 'DOUBLE'],
  ['close', 'DOUBLE'],
  ['volume', 'DOUBLE'],
];

/** A hostile directory name: quotes, SQL, glob characters and spaces. */
export const HOSTILE_NAME = "it's; DROP TABLE x; -- [a]*?{b}";
