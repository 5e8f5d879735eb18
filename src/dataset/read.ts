// Reading a dataset back (DESIGN.md §10): only the month files a range needs.

import { readdir } from 'node:fs/promises';
import { MarketDataError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import type { MarketData } from '../core/types.js';
import { escapeGlob } from '../writers/atomic-file.js';
import { type SeriesSummary, summarizeSeries } from './coverage.js';
import {
  checkSeriesKey,
  DATASET_PROVIDERS,
  intervalDir,
  monthFilePath,
  monthKeyOf,
  monthKeyOfFile,
  monthRangeMs,
  type SeriesKey,
  seriesDir,
  symbolFromDirName,
} from './layout.js';
import { DatasetDb, inspectMonthFile } from './month-file.js';
import { describeProblems, scanSeries } from './series.js';

/** Arguments of {@link Dataset.read}. */
export interface DatasetReadParams {
  provider: string;
  interval: string;
  symbol: string;
  /** First open time wanted (inclusive). */
  from?: Date;
  /** Last open time wanted (inclusive). */
  to?: Date;
}

/** A dataset directory opened for reading. */
export interface Dataset {
  /** The bars of one series with open times in `[from, to]`, in time order. */
  read(params: DatasetReadParams): Promise<MarketData[]>;
  /** Every series in the dataset with first/last bar, count, gaps and problem files. */
  list(): Promise<SeriesSummary[]>;
}

/**
 * Opens the dataset in `dir` (as written by `syncDataset` / `argo-market sync`).
 *
 * @example
 * const bars = await openDataset('data').read({ provider: 'binance', interval: '1m',
 *   symbol: 'BTCUSDT', from: new Date('2024-03-01'), to: new Date('2024-03-31T23:59:00Z') });
 */
export function openDataset(dir: string): Dataset {
  if (typeof dir !== 'string' || dir.trim() === '') {
    throw new MarketDataError('CONFIG_INVALID', 'openDataset needs a dataset directory', {
      fatal: true,
    });
  }
  return { read: (params) => readSeries(dir, params), list: () => listDataset(dir) };
}

async function readSeries(root: string, params: DatasetReadParams): Promise<MarketData[]> {
  const key = checkSeriesKey(params);
  const fromMs = params.from?.getTime() ?? 0;
  const toMs = params.to?.getTime() ?? 8.64e15;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new MarketDataError('CONFIG_INVALID', '`from` and `to` must be valid Dates', {
      fatal: true,
    });
  }
  const months = await monthsIn(root, key, fromMs, toMs);
  if (months.length === 0) return [];
  const db = new DatasetDb();
  try {
    const connection = await db.connect();
    const files: string[] = [];
    for (const month of months) {
      const path = monthFilePath(root, key, month);
      const state = await inspectMonthFile(connection, path, key, monthRangeMs(month));
      if (state.kind !== 'ok') {
        throw new MarketDataError(
          'WRITER',
          `cannot read ${key.provider} ${key.interval} ${key.symbol}: ${describeProblems([{ path, ...state }])}`,
          { fatal: true },
        );
      }
      if (state.rows > 0) files.push(escapeGlob(path));
    }
    if (files.length === 0) return [];
    const list = files.map((_, i) => `$${i + 3}`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT id, epoch_ms(time), symbol, open, high, low, close, volume
         FROM read_parquet([${list}])
        WHERE epoch_ms(time) BETWEEN $1 AND $2 ORDER BY time`,
      [fromMs, toMs, ...files],
    );
    const [ids, times, symbols, opens, highs, lows, closes, volumes] = reader.getColumns();
    const bars: MarketData[] = new Array(reader.currentRowCount);
    for (let i = 0; i < bars.length; i++) {
      bars[i] = {
        id: ids?.[i] as string,
        symbol: symbols?.[i] as string,
        time: new Date(Number(times?.[i] as bigint)),
        open: opens?.[i] as number,
        high: highs?.[i] as number,
        low: lows?.[i] as number,
        close: closes?.[i] as number,
        volume: volumes?.[i] as number,
      };
    }
    return bars;
  } finally {
    db.close();
  }
}

async function monthsIn(
  root: string,
  key: SeriesKey,
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const fromMonth = monthKeyOf(Math.max(0, fromMs));
  const toMonth = monthKeyOf(Math.min(toMs, 8.64e15));
  const names = await readdir(seriesDir(root, key)).catch(() => [] as string[]);
  return names
    .map((name) => monthKeyOfFile(name))
    .filter(
      (month): month is string => month !== undefined && month >= fromMonth && month <= toMonth,
    )
    .sort();
}

/** Every series under `root`, with its summary (the `ls` command). */
export async function listDataset(root: string): Promise<SeriesSummary[]> {
  const db = new DatasetDb();
  try {
    const connection = await db.connect();
    const out: SeriesSummary[] = [];
    for (const provider of DATASET_PROVIDERS) {
      const intervals = await readdir(`${root}/${provider}`).catch(() => [] as string[]);
      for (const interval of intervals.sort()) {
        if (!isInterval(interval)) continue;
        const symbolDirs = await readdir(intervalDir(root, provider, interval)).catch(
          () => [] as string[],
        );
        for (const name of symbolDirs.sort()) {
          const symbol = symbolFromDirName(name);
          if (symbol === undefined || name.startsWith('.')) continue;
          const key = checkSeriesKey({ provider, interval, symbol });
          out.push(await summarizeSeries(connection, await scanSeries(connection, root, key)));
        }
      }
    }
    return out;
  } finally {
    db.close();
  }
}
