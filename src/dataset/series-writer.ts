// The writer a sync hands to a provider's download: bars of one series arrive in time order and
// go into their month files, each month published atomically together with the range it now
// covers. A month is written when the download moves past it (so complete months are written
// once) and, for long months, every FLUSH_BARS bars, so a crash loses little work.

import type { DuckDBConnection } from '@duckdb/node-api';
import { MarketDataError } from '../core/errors.js';
import type { BatchWriter, MarketData, MarketDataWriter } from '../core/types.js';
import { monthFilePath, monthKeyOf, monthKeysBetween, monthRangeMs } from './layout.js';
import { type MonthMeta, writeMonthFile } from './month-file.js';
import { clipRanges, mergeRanges } from './ranges.js';
import type { SeriesScan } from './series.js';

/** Our choice: bars of one month held in memory before they are published. */
export const FLUSH_BARS = 20_000;

/** The part of a series one download fills. */
export interface Segment {
  fromMs: number;
  toMs: number;
  /**
   * True when nothing after the segment is known: the segment counts as checked only up to its
   * last bar (the venue's "now" is not known here; bars after it are fetched next time).
   */
  trailing: boolean;
}

/** Called after each published month with the number of new bars in it. */
export type OnPublished = (bars: number) => void;

/**
 * A {@link MarketDataWriter} for one segment of one series. Polygon bars come without an id; they
 * get the deterministic `SYMBOL-interval-openTimeMs` (as Binance's), so two syncs of the same
 * range write identical rows.
 */
export class SeriesWriter implements MarketDataWriter, BatchWriter {
  readonly #connection: DuckDBConnection;
  readonly #root: string;
  readonly #scan: SeriesScan;
  readonly #segment: Segment;
  readonly #onPublished: OnPublished;
  readonly #flushBars: number;
  #month: string | undefined;
  #buffer: MarketData[] = [];
  #lastMs: number | undefined;
  /** The first open time not yet published as checked. */
  #checkedUpToMs: number;
  #closed = false;

  constructor(
    connection: DuckDBConnection,
    root: string,
    scan: SeriesScan,
    segment: Segment,
    onPublished: OnPublished,
    flushBars = FLUSH_BARS,
  ) {
    this.#flushBars = Math.max(1, flushBars);
    this.#connection = connection;
    this.#root = root;
    this.#scan = scan;
    this.#segment = segment;
    this.#onPublished = onPublished;
    this.#checkedUpToMs = segment.fromMs;
  }

  async initialize(): Promise<void> {}

  async write(data: MarketData): Promise<void> {
    await this.writeBatch([data]);
  }

  async writeBatch(data: MarketData[]): Promise<void> {
    if (this.#closed)
      throw new MarketDataError('WRITER', 'series writer used after close', { fatal: true });
    const { symbol, interval } = this.#scan.key;
    for (const bar of data) {
      const openMs = bar.time.getTime();
      if (openMs < this.#segment.fromMs || openMs > this.#segment.toMs) continue;
      if (this.#lastMs !== undefined && openMs <= this.#lastMs) continue;
      const month = monthKeyOf(openMs);
      if (this.#month !== undefined && month !== this.#month) {
        // Every bar before this one has arrived: the month is checked up to here.
        await this.#publishThrough(openMs - 1);
      }
      this.#month = month;
      this.#lastMs = openMs;
      this.#buffer.push(bar.id === '' ? { ...bar, id: `${symbol}-${interval}-${openMs}` } : bar);
      if (this.#buffer.length >= this.#flushBars) await this.#publishThrough(openMs);
    }
  }

  /** Publishes what remains; resolves to the series directory. */
  async finalize(): Promise<string> {
    const endMs = this.#segment.trailing ? this.#lastMs : this.#segment.toMs;
    if (endMs !== undefined) await this.#publishThrough(endMs);
    this.#closed = true;
    return this.#scan.dir;
  }

  /** Drops unpublished bars (an abort or failure: published months stay valid). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#buffer = [];
  }

  getOutputPath(): string {
    return this.#scan.dir;
  }

  /**
   * Publishes every month from the one holding `#checkedUpToMs` to the one holding `throughMs`,
   * each with its buffered bars and the checked range `[#checkedUpToMs, throughMs]` clipped to it.
   */
  async #publishThrough(throughMs: number): Promise<void> {
    if (throughMs < this.#checkedUpToMs) return;
    for (const month of monthKeysBetween(this.#checkedUpToMs, throughMs)) {
      const range = monthRangeMs(month);
      const bars = month === this.#month ? this.#buffer : [];
      const fresh = clipRanges([[this.#checkedUpToMs, throughMs]], range.startMs, range.endMs - 1);
      await this.#publishMonth(month, bars, fresh);
      if (month === this.#month) this.#buffer = [];
    }
    this.#checkedUpToMs = throughMs + 1;
  }

  async #publishMonth(
    month: string,
    bars: MarketData[],
    fresh: ReadonlyArray<readonly [number, number]>,
  ): Promise<void> {
    const key = this.#scan.key;
    const path = monthFilePath(this.#root, key, month);
    const problem = this.#scan.problems.find((p) => p.path === path);
    if (problem) {
      throw new MarketDataError(
        'WRITER',
        `${problem.path} is ${problem.kind} (${problem.reason}); it is never overwritten: move it away and sync again`,
        { fatal: true },
      );
    }
    const existing = this.#scan.months.get(month);
    const meta: MonthMeta = {
      ...key,
      checked: mergeRanges([...(existing?.meta.checked ?? []), ...fresh]),
    };
    await writeMonthFile(this.#connection, path, meta, bars, existing?.path);
    const firstMs = bars[0]?.time.getTime();
    const lastMs = bars.at(-1)?.time.getTime();
    this.#scan.months.set(month, {
      path,
      meta,
      rows: (existing?.rows ?? 0) + bars.length,
      ...minMax(existing?.firstMs, firstMs, existing?.lastMs, lastMs),
    });
    this.#onPublished(bars.length);
  }
}

function minMax(
  firstA: number | undefined,
  firstB: number | undefined,
  lastA: number | undefined,
  lastB: number | undefined,
): { firstMs?: number; lastMs?: number } {
  const firsts = [firstA, firstB].filter((v): v is number => v !== undefined);
  const lasts = [lastA, lastB].filter((v): v is number => v !== undefined);
  return {
    ...(firsts.length ? { firstMs: Math.min(...firsts) } : {}),
    ...(lasts.length ? { lastMs: Math.max(...lasts) } : {}),
  };
}
