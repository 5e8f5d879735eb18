// `syncDataset` (DESIGN.md §10): bring every series of a dataset up to date, fetching only the
// open times no month file has checked yet, every symbol at once through ONE provider (so all
// symbols share the venue's REST budget, as downloads do).

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BINANCE_SYMBOL_PATTERN, POLYGON_TICKER_PATTERN } from '../config/schemas.js';
import { abortError } from '../core/abort.js';
import { ConfigError, MarketDataError, toMarketDataError } from '../core/errors.js';
import {
  bucketStartMs,
  intervalMs,
  intervalToTimespan,
  isInterval,
  nextBucketStartMs,
} from '../core/intervals.js';
import type { Interval, Provider } from '../core/types.js';
import { BinanceProvider } from '../providers/binance/provider.js';
import { PolygonProvider } from '../providers/polygon/provider.js';
import { removeQuietly } from '../writers/atomic-file.js';
import { type SeriesSummary, summarizeSeries } from './coverage.js';
import {
  DATASET_PROVIDERS,
  type DatasetProvider,
  isDatasetProvider,
  type SeriesKey,
  seriesDir,
} from './layout.js';
import { DatasetDb } from './month-file.js';
import { subtractRanges } from './ranges.js';
import { describeProblems, scanSeries } from './series.js';
import { type Segment, SeriesWriter } from './series-writer.js';
import { ProgressTracker } from './sync-progress.js';

/** Options of {@link syncDataset}. */
export interface SyncOptions {
  /** The dataset directory (`DIR` of `DIR/<provider>/<interval>/<SYMBOL>/<YYYY>-<MM>.parquet`). */
  data: string;
  provider: DatasetProvider;
  symbols: string[];
  interval: Interval;
  /** First open time wanted. */
  from: Date;
  /** Last open time wanted (default: now; bars still open at the venue are never written). */
  to?: Date;
  /**
   * Options of the provider's constructor besides symbols and interval: `apiKey` for Polygon,
   * `restBaseUrl` (e.g. the simulator), `downloadConcurrency`, retries.
   */
  providerOptions?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Bars of one month held in memory before they are published (default 20000). */
  flushBars?: number;
  /** Called as bars arrive and symbols finish. */
  onProgress?: (progress: SyncProgress) => void;
}

/** The state of a running sync, for a progress bar. */
export interface SyncProgress {
  symbolsDone: number;
  symbolsTotal: number;
  /** Bars written so far in this run. */
  barsWritten: number;
  /** Expected open times fetched so far, and in all (an estimate for Polygon, whose quiet minutes have no bar). */
  current: number;
  total: number;
  message: string;
}

/** The outcome of one symbol. */
export interface SymbolSyncResult extends SeriesSummary {
  status: 'ok' | 'failed';
  /** Bars this run added. */
  barsWritten: number;
  /** Ranges this run asked the venue for (ISO 8601 open times). */
  fetched: Array<{ from: string; to: string }>;
  error?: { code: string; message: string };
}

/** What {@link syncDataset} resolves to. */
export interface SyncSummary {
  provider: DatasetProvider;
  interval: Interval;
  data: string;
  symbols: SymbolSyncResult[];
  /** Symbols that failed (unknown, foreign files, venue errors); the others completed. */
  failed: string[];
  barsWritten: number;
  elapsedMs: number;
}

// With no `to`, the trailing range ends a day after the local clock: the download itself stops
// at the venue's last closed bar, whatever the local clock says.
const OPEN_END_MARGIN_MS = 86_400_000;

/**
 * Brings the series of `symbols` in `data` up to date for `[from, to]` and resolves to a
 * per-symbol summary (first/last bar, count, gaps). Only open times no month file has checked
 * are fetched: after the last stored bar, and holes inside the range; a second run right after
 * the first costs about one request per symbol. Symbols run concurrently through one provider.
 * A symbol that fails (unknown, a foreign or corrupt file in its directory, a venue error) is
 * reported in `failed` while the others complete. Abort stops at once: every month file is
 * either its old or its new complete version, and the run rejects with `ABORTED`.
 *
 * @example
 * const summary = await syncDataset({ data: 'data', provider: 'binance',
 *   symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1m', from: new Date('2024-01-01') });
 * for (const s of summary.symbols) console.log(s.symbol, s.bars, s.gaps.length);
 */
export async function syncDataset(options: SyncOptions): Promise<SyncSummary> {
  const startedMs = Date.now();
  const { provider: name, interval, data } = checkOptions(options);
  const fromMs = options.from.getTime();
  const toMs = options.to?.getTime() ?? Date.now() + OPEN_END_MARGIN_MS;
  const symbols = [...new Set(options.symbols.map((s) => normalizeSymbol(name, s)))];
  const valid = symbols.filter((s) => symbolPattern(name).test(s));
  const db = new DatasetDb();
  const progress = new ProgressTracker(symbols.length, options.onProgress);
  try {
    const provider = valid.length > 0 ? makeProvider(name, valid, interval, options) : undefined;
    const results = await Promise.all(
      symbols.map((symbol) =>
        syncSymbol({
          db,
          data,
          key: { provider: name, interval, symbol },
          fromMs,
          toMs,
          provider,
          options,
          progress,
        }),
      ),
    );
    if (options.signal?.aborted) throw abortError(options.signal);
    const failed = results.filter((r) => r.status === 'failed').map((r) => r.symbol);
    return {
      provider: name,
      interval,
      data,
      symbols: results,
      failed,
      barsWritten: results.reduce((sum, r) => sum + r.barsWritten, 0),
      elapsedMs: Date.now() - startedMs,
    };
  } finally {
    db.close();
  }
}

interface SymbolJob {
  db: DatasetDb;
  data: string;
  key: SeriesKey;
  fromMs: number;
  toMs: number;
  provider: Provider | undefined;
  options: SyncOptions;
  progress: ProgressTracker;
}

async function syncSymbol(job: SymbolJob): Promise<SymbolSyncResult> {
  const { key, progress } = job;
  const connection = await job.db.connect();
  const fetched: Array<{ from: string; to: string }> = [];
  let barsWritten = 0;
  let error: MarketDataError | undefined;
  try {
    try {
      if (job.provider === undefined || !symbolPattern(key.provider).test(key.symbol)) {
        throw new MarketDataError(
          'INVALID_SYMBOL',
          `invalid ${key.provider} symbol '${key.symbol}'`,
          {
            fatal: true,
          },
        );
      }
      await removeStaleTemps(seriesDir(job.data, key));
      const scan = await scanSeries(connection, job.data, key);
      if (scan.problems.length > 0) {
        throw new MarketDataError(
          'WRITER',
          `${key.symbol}: files in ${scan.dir} are not a sync's and are never overwritten: ${describeProblems(scan.problems)}; move them away and sync again`,
          { fatal: true },
        );
      }
      const missing = subtractRanges(job.fromMs, job.toMs, scan.checked)
        .map(([from, to]) => [alignUp(key, from), to] as const)
        .filter(([from, to]) => from <= to);
      const estimates = missing.map(([from, to]) =>
        estimateBars(key.interval, from, Math.min(to, Date.now())),
      );
      progress.addTotal(estimates.reduce((a, b) => a + b, 0));
      for (const [index, [segFromMs, segToMs]] of missing.entries()) {
        const segment: Segment = {
          fromMs: segFromMs,
          toMs: segToMs,
          trailing: segToMs === job.toMs && !settled(job.options, segToMs),
        };
        const writer = new SeriesWriter(
          connection,
          job.data,
          scan,
          segment,
          (bars) => {
            barsWritten += bars;
            progress.addBars(bars);
          },
          job.options.flushBars,
        );
        fetched.push({
          from: new Date(segFromMs).toISOString(),
          to: new Date(segToMs).toISOString(),
        });
        const estimate = estimates[index] ?? 0;
        let reported = 0;
        job.provider.configWriter(writer);
        const { multiplier, timespan } = intervalToTimespan(key.interval);
        await job.provider.download({
          ticker: key.symbol,
          startDate: new Date(segFromMs),
          endDate: new Date(segToMs),
          multiplier,
          timespan,
          ...(job.options.signal ? { signal: job.options.signal } : {}),
          onProgress: (current, total) => {
            const now = total > 0 ? Math.round((estimate * current) / total) : 0;
            if (now > reported) {
              progress.addCurrent(now - reported);
              reported = now;
            }
          },
        });
        if (estimate > reported) progress.addCurrent(estimate - reported);
      }
      const summary = await summarizeSeries(
        connection,
        await scanSeries(connection, job.data, key),
      );
      if (key.provider === 'polygon' && summary.bars === 0 && fetched.length > 0) {
        // PROTOCOLS.md §2.2: Polygon answers an unknown ticker with 200 and no results.
        throw new MarketDataError(
          'INVALID_SYMBOL',
          `Polygon returned no bars at all for ${key.symbol} in the range: check the ticker`,
          { fatal: true },
        );
      }
      progress.symbolDone(`${key.symbol}: ${summary.bars} bars`);
      return { ...summary, status: 'ok', barsWritten, fetched };
    } catch (caught) {
      if (job.options.signal?.aborted) throw abortError(job.options.signal, caught);
      error = toMarketDataError(caught, 'WRITER', `sync of ${key.symbol} failed`, true);
    }
    progress.symbolDone(`${key.symbol}: failed (${error.code})`);
    const summary = await summarizeSeries(
      connection,
      await scanSeries(connection, job.data, key),
    ).catch(() => emptySummary(key));
    return {
      ...summary,
      status: 'failed',
      barsWritten,
      fetched,
      error: { code: error.code, message: error.message },
    };
  } finally {
    job.db.release(connection);
  }
}

// A checked range ending inside a Binance bar leaves the rest of that bar "missing"; no bar opens
// there, so the missing range starts at the next open time. (Polygon day bars open at New York
// midnight, which UTC buckets do not know; its ranges are left as they are.)
function alignUp(key: SeriesKey, fromMs: number): number {
  if (key.provider !== 'binance') return fromMs;
  const openMs = bucketStartMs(key.interval, fromMs);
  return openMs < fromMs ? nextBucketStartMs(key.interval, openMs) : fromMs;
}

// A write interrupted by a crash leaves `.YYYY-MM.parquet.<uuid>.tmp` (atomic-file.ts); it was
// never published, so nothing reads it and it can go.
const STALE_TEMP = /^\.\d{4}-\d{2}\.parquet\.[0-9a-f-]{36}\.tmp$/;

async function removeStaleTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (STALE_TEMP.test(name)) await removeQuietly(join(dir, name));
}

/**
 * True when `to` was given and lies more than a day before the local clock: the venue has closed
 * every bar up to it, so the whole segment counts as checked even where it ends in quiet minutes
 * with no Polygon bar. Otherwise the venue's "now" is unknown here and a segment reaching `to`
 * counts only up to its last bar.
 */
function settled(options: SyncOptions, toMs: number): boolean {
  return options.to !== undefined && toMs < Date.now() - OPEN_END_MARGIN_MS;
}

function emptySummary(key: SeriesKey): SeriesSummary {
  return { ...key, bars: 0, gaps: [], problems: [] };
}

function estimateBars(interval: Interval, fromMs: number, toMs: number): number {
  if (toMs < fromMs) return 0;
  return Math.max(1, Math.floor((toMs - fromMs) / intervalMs(interval)) + 1);
}

function checkOptions(options: SyncOptions): {
  provider: DatasetProvider;
  interval: Interval;
  data: string;
} {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'syncDataset needs an options object');
  }
  if (!isDatasetProvider(options.provider)) {
    throw new ConfigError(
      'provider',
      `unknown provider ${JSON.stringify(options.provider)}: use ${DATASET_PROVIDERS.join(' or ')}`,
    );
  }
  if (!isInterval(options.interval)) {
    throw new ConfigError('interval', `unknown interval ${JSON.stringify(options.interval)}`, {
      code: 'INVALID_INTERVAL',
    });
  }
  if (typeof options.data !== 'string' || options.data.trim() === '') {
    throw new ConfigError('data', 'syncDataset needs the dataset directory in `data`');
  }
  if (!Array.isArray(options.symbols) || options.symbols.length === 0) {
    throw new ConfigError('symbols', 'syncDataset needs at least one symbol', {
      code: 'INVALID_SYMBOL',
    });
  }
  if (
    !(options.from instanceof Date) ||
    !Number.isFinite(options.from.getTime()) ||
    options.from.getTime() < 0
  ) {
    throw new ConfigError('from', '`from` must be a valid Date, not before 1970');
  }
  if (
    options.to !== undefined &&
    (!(options.to instanceof Date) || !(options.to.getTime() >= options.from.getTime()))
  ) {
    throw new ConfigError('to', '`to` must be a valid Date, not before `from`');
  }
  return { provider: options.provider, interval: options.interval, data: options.data };
}

function normalizeSymbol(provider: DatasetProvider, symbol: string): string {
  const trimmed = String(symbol).trim();
  return provider === 'binance' ? trimmed.toUpperCase() : trimmed;
}

function symbolPattern(provider: DatasetProvider): RegExp {
  return provider === 'binance' ? BINANCE_SYMBOL_PATTERN : POLYGON_TICKER_PATTERN;
}

function makeProvider(
  name: DatasetProvider,
  symbols: string[],
  interval: Interval,
  options: SyncOptions,
): Provider {
  const config = { ...options.providerOptions, symbols, interval };
  return name === 'binance'
    ? new BinanceProvider(config as ConstructorParameters<typeof BinanceProvider>[0])
    : new PolygonProvider(config as ConstructorParameters<typeof PolygonProvider>[0]);
}
