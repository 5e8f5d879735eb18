// What is on disk for one series: its month files, what they cover, and anything in its
// directory that is not ours.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  monthFilePath,
  monthKeyOfFile,
  monthRangeMs,
  type SeriesKey,
  seriesDir,
} from './layout.js';
import { inspectMonthFile, type MonthMeta } from './month-file.js';
import { mergeRanges, type TimeRange } from './ranges.js';

/** A file in a dataset that a sync will not touch, and why. */
export interface FileProblem {
  path: string;
  kind: 'foreign' | 'corrupt';
  reason: string;
}

/** One of our month files. */
export interface MonthEntry {
  path: string;
  meta: MonthMeta;
  rows: number;
  firstMs?: number;
  lastMs?: number;
}

/** A series as found on disk. */
export interface SeriesScan {
  key: SeriesKey;
  dir: string;
  /** Our month files by `YYYY-MM`. */
  months: Map<string, MonthEntry>;
  /** Files (month-named or not) that are not ours or cannot be read; never overwritten. */
  problems: FileProblem[];
  /** Every open-time range checked against the venue, merged. */
  checked: TimeRange[];
  rows: number;
  firstMs?: number;
  lastMs?: number;
}

/**
 * Lists and inspects the month files of `key` under `root`. Temporary files of an interrupted
 * write (`.*.tmp`, never read) are skipped; any other entry that is not one of our month files
 * is a problem.
 */
export async function scanSeries(
  connection: DuckDBConnection,
  root: string,
  key: SeriesKey,
): Promise<SeriesScan> {
  const dir = seriesDir(root, key);
  const scan: SeriesScan = { key, dir, months: new Map(), problems: [], checked: [], rows: 0 };
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    throw error;
  }
  const checked: TimeRange[] = [];
  for (const name of names) {
    if (name.startsWith('.') && name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    const monthKey = monthKeyOfFile(name);
    if (monthKey === undefined) {
      scan.problems.push({ path, kind: 'foreign', reason: 'not a YYYY-MM.parquet month file' });
      continue;
    }
    const state = await inspectMonthFile(connection, path, key, monthRangeMs(monthKey));
    if (state.kind !== 'ok') {
      scan.problems.push({ path, kind: state.kind, reason: state.reason });
      continue;
    }
    const entry: MonthEntry = { path: monthFilePath(root, key, monthKey), ...state };
    scan.months.set(monthKey, entry);
    checked.push(...state.meta.checked);
    scan.rows += state.rows;
    if (state.firstMs !== undefined) scan.firstMs ??= state.firstMs;
    if (state.lastMs !== undefined) scan.lastMs = state.lastMs;
  }
  scan.checked = mergeRanges(checked);
  return scan;
}

/** The problem files of a scan as one line for an error message. */
export function describeProblems(problems: readonly FileProblem[]): string {
  return problems.map((p) => `${p.path} (${p.kind}: ${p.reason})`).join('; ');
}
