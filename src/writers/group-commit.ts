// Group commit for StreamingDuckDBWriter: writes that arrive while a commit is queued or running
// (many symbols closing the same second) share the next transaction, so the store pays one
// durable commit per group instead of one per bar.

import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { MarketDataError } from '../core/errors.js';
import type { WriterMetrics } from '../metrics/writer-metrics.js';
import { appendBarChunks } from './bar-chunks.js';
import { bindBar, type CheckedBar, MARKET_DATA_SELECT_SQL, writerError } from './parquet-schema.js';
import { latestPerBar, type StreamStore } from './stream-store.js';

/** One write() waiting for its group's commit. */
export interface PendingWrite {
  row: CheckedBar;
  resolve: () => void;
  reject: (error: MarketDataError) => void;
}

/** DuckDB's message for a primary-key conflict (the row is already stored). */
const KEY_CONFLICT = /Constraint Error|duplicate key/i;

/**
 * Commits `rows` to the store in one transaction (all or none); the last row of a (symbol, time)
 * wins. One row goes through a prepared statement, more through the staging table. Each is first
 * a plain INSERT (one fsync'd commit, ~1 ms); only when a bar is already stored (a repeat) does
 * the upsert run, because DuckDB's INSERT OR REPLACE costs ~15x that on a keyed table. A failed
 * INSERT is one statement, so it leaves nothing behind.
 */
export async function commitRows(
  store: StreamStore,
  rows: CheckedBar[],
  storePath: string,
): Promise<void> {
  if (rows.length === 1) {
    const { insert, upsert } = store;
    try {
      if (!insert || !upsert) throw new Error('store is closed');
      bindBar(insert, rows[0] as CheckedBar);
      try {
        await insert.run();
      } catch (error) {
        if (!KEY_CONFLICT.test(String((error as Error)?.message))) throw error;
        bindBar(upsert, rows[0] as CheckedBar);
        await upsert.run();
      }
    } catch (error) {
      throw writerError('cannot store a bar in', storePath, error);
    }
    return;
  }
  const unique = latestPerBar(rows);
  const appender = store.stageAppender as DuckDBAppender;
  const connection = store.writeConnection as DuckDBConnection;
  try {
    if (!store.stageChunk) throw new Error('store is closed');
    appendBarChunks(appender, store.stageChunk, unique);
    appender.flushSync();
    // One statement is one transaction: the whole group commits, or nothing does.
    try {
      await connection.run(`INSERT INTO market_data SELECT ${MARKET_DATA_SELECT_SQL} FROM stage`);
    } catch (error) {
      if (!KEY_CONFLICT.test(String((error as Error)?.message))) throw error;
      await connection.run(
        `INSERT OR REPLACE INTO market_data SELECT ${MARKET_DATA_SELECT_SQL} FROM stage`,
      );
    }
  } catch (error) {
    throw writerError('cannot store bars in', storePath, error);
  } finally {
    appender.clear();
    await connection.run('DELETE FROM stage').catch(() => undefined);
  }
}

/**
 * Commits a group of waiting writes, then settles each: all resolve, or all reject. `metrics`
 * hears of the commit before any write settles, so a scrape after `write()` already counts it.
 */
export async function commitGroup(
  store: StreamStore,
  group: PendingWrite[],
  storePath: string,
  metrics?: WriterMetrics,
): Promise<void> {
  const startMs = metrics === undefined ? 0 : performance.now();
  try {
    await commitRows(
      store,
      group.map((pending) => pending.row),
      storePath,
    );
  } catch (error) {
    metrics?.failed();
    for (const pending of group) pending.reject(error as MarketDataError);
    return;
  }
  metrics?.committed(group.length, (performance.now() - startMs) / 1000);
  store.refresher?.markDirty();
  for (const pending of group) pending.resolve();
}
