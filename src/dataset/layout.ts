// Where a dataset keeps its bars (DESIGN.md §10): DIR/<provider>/<interval>/<SYMBOL>/<YYYY>-<MM>.parquet,
// one file per UTC month of open times.

import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import type { Interval } from '../core/types.js';

/** Providers whose bars a dataset can hold. */
export type DatasetProvider = 'binance' | 'polygon';

/** The providers {@link syncDataset} knows, for messages and validation. */
export const DATASET_PROVIDERS: readonly DatasetProvider[] = ['binance', 'polygon'];

/** A month file's name: `2024-01.parquet`. */
export const MONTH_FILE_PATTERN = /^(\d{4})-(\d{2})\.parquet$/;

/** One series of a dataset: every bar of one symbol at one interval from one provider. */
export interface SeriesKey {
  provider: DatasetProvider;
  interval: Interval;
  symbol: string;
}

/** True when `name` is a provider a dataset can hold. */
export function isDatasetProvider(name: unknown): name is DatasetProvider {
  return typeof name === 'string' && (DATASET_PROVIDERS as readonly string[]).includes(name);
}

/** Checks a series key from outside (library callers), with a ConfigError naming the field. */
export function checkSeriesKey(key: {
  provider: unknown;
  interval: unknown;
  symbol: unknown;
}): SeriesKey {
  if (!isDatasetProvider(key.provider)) {
    throw new ConfigError(
      'provider',
      `unknown dataset provider ${JSON.stringify(key.provider)}: use ${DATASET_PROVIDERS.join(' or ')}`,
    );
  }
  if (!isInterval(key.interval)) {
    throw new ConfigError('interval', `unknown interval ${JSON.stringify(key.interval)}`, {
      code: 'INVALID_INTERVAL',
    });
  }
  if (typeof key.symbol !== 'string' || key.symbol.trim() === '') {
    throw new ConfigError('symbol', 'a dataset series needs a non-empty symbol', {
      code: 'INVALID_SYMBOL',
    });
  }
  return { provider: key.provider, interval: key.interval, symbol: key.symbol };
}

// Letters, digits, `_`, `-` and an inner `.` (BRK.B) stay as they are; anything else (`/`, `%`,
// `:`, non-ASCII, control characters) is percent-encoded as UTF-8, so every symbol has exactly
// one directory name and the name decodes back to it.
const KEEP = /[A-Za-z0-9_-]/;

/** The directory name of `symbol`: itself where a path allows it, percent-encoded elsewhere. */
export function symbolDirName(symbol: string): string {
  let out = '';
  const bytes = new TextEncoder().encode(symbol);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const char = String.fromCharCode(byte);
    // A dot is kept inside a name only: a leading dot hides the directory and `..` climbs out.
    const keepDot = char === '.' && i > 0 && i < bytes.length - 1 && bytes[i + 1] !== 0x2e;
    if (byte < 0x80 && (KEEP.test(char) || keepDot)) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The symbol a directory name stands for, or undefined when the name is not one we write. */
export function symbolFromDirName(name: string): string | undefined {
  try {
    const symbol = decodeURIComponent(name);
    return symbolDirName(symbol) === name ? symbol : undefined;
  } catch {
    return undefined;
  }
}

/** `DIR/<provider>/<interval>`: every series of one provider and interval. */
export function intervalDir(root: string, provider: DatasetProvider, interval: Interval): string {
  return join(root, provider, interval);
}

/** `DIR/<provider>/<interval>/<SYMBOL>`: the month files of one series. */
export function seriesDir(root: string, key: SeriesKey): string {
  return join(intervalDir(root, key.provider, key.interval), symbolDirName(key.symbol));
}

/** `YYYY-MM` of the UTC month containing `timeMs`. */
export function monthKeyOf(timeMs: number): string {
  const date = new Date(timeMs);
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `[startMs, endMs)` of a `YYYY-MM` month, UTC. */
export function monthRangeMs(monthKey: string): { startMs: number; endMs: number } {
  const match = /^(\d{4})-(\d{2})$/.exec(monthKey);
  if (!match) throw new ConfigError('month', `not a YYYY-MM month: ${monthKey}`);
  const year = Number(match[1]);
  const month0 = Number(match[2]) - 1;
  return { startMs: Date.UTC(year, month0, 1), endMs: Date.UTC(year, month0 + 1, 1) };
}

/** The month key of a month file name (`2024-01.parquet` → `2024-01`), or undefined. */
export function monthKeyOfFile(name: string): string | undefined {
  const match = MONTH_FILE_PATTERN.exec(name);
  if (!match) return undefined;
  const month = Number(match[2]);
  return month >= 1 && month <= 12 ? `${match[1]}-${match[2]}` : undefined;
}

/** The path of one month file. */
export function monthFilePath(root: string, key: SeriesKey, monthKey: string): string {
  return join(seriesDir(root, key), `${monthKey}.parquet`);
}

/** Every month key from the month of `fromMs` to the month of `toMs`, in order. */
export function monthKeysBetween(fromMs: number, toMs: number): string[] {
  const keys: string[] = [];
  if (toMs < fromMs) return keys;
  const from = new Date(fromMs);
  let year = from.getUTCFullYear();
  let month0 = from.getUTCMonth();
  while (Date.UTC(year, month0, 1) <= toMs) {
    keys.push(monthKeyOf(Date.UTC(year, month0, 1)));
    month0 += 1;
    if (month0 === 12) {
      month0 = 0;
      year += 1;
    }
  }
  return keys;
}
