// Live bars into a dataset (DESIGN.md §10, `argo-market stream … --dataset DIR`): every closed bar
// a stream yields is published into its month file before `write` resolves, so it survives
// kill -9. History and live meet without a hole: on the first live bar of a symbol, the open
// times between the dataset's coverage and that bar are synced first.

import type { DuckDBConnection } from '@duckdb/node-api';
import { MarketDataError } from '../core/errors.js';
import type { Interval, MarketData } from '../core/types.js';
import {
  type DatasetProvider,
  monthFilePath,
  monthKeyOf,
  monthRangeMs,
  type SeriesKey,
} from './layout.js';
import { DatasetDb, type MonthMeta, writeMonthFile } from './month-file.js';
import { clipRanges, mergeRanges } from './ranges.js';
import { describeProblems, type SeriesScan, scanSeries } from './series.js';
import { syncDataset } from './sync.js';

/** Options of {@link LiveDataset.open}. */
export interface LiveDatasetOptions {
  data: string;
  provider: DatasetProvider;
  interval: Interval;
  symbols: string[];
  /** The provider options the stream uses (endpoints, `apiKey`), for the catch-up syncs. */
  providerOptions?: Record<string, unknown>;
  signal?: AbortSignal;
}

interface SeriesState {
  scan: SeriesScan;
  /** First open time the live part covers (set by the first live bar). */
  liveFromMs: number | undefined;
  /** Publishes in flight, one at a time per series. */
  chain: Promise<void>;
  pending: MarketData[];
}

/**
 * Appends closed live bars of a stream to the dataset's month files. Open it before streaming:
 * it syncs every symbol that already has bars up to the venue's last closed bar.
 *
 * @example
 * const live = await LiveDataset.open({ data: 'data', provider: 'binance', interval: '1m',
 *   symbols: ['BTCUSDT'] });
 * for await (const [bar, err] of provider.stream(signal)) if (bar) await live.write(bar);
 * await live.close();
 */
export class LiveDataset {
  readonly #options: LiveDatasetOptions;
  readonly #db = new DatasetDb();
  readonly #series = new Map<string, SeriesState>();
  #connection: DuckDBConnection | undefined;

  private constructor(options: LiveDatasetOptions) {
    this.#options = options;
  }

  /** Scans the dataset (foreign or corrupt files are refused) and syncs the stored symbols. */
  static async open(options: LiveDatasetOptions): Promise<LiveDataset> {
    const live = new LiveDataset(options);
    try {
      await live.#init();
      return live;
    } catch (error) {
      await live.close();
      throw error;
    }
  }

  async #init(): Promise<void> {
    const { data, provider, interval } = this.#options;
    this.#connection = await this.#db.connect();
    let earliestLastMs: number | undefined;
    for (const symbol of this.#options.symbols) {
      const scan = await scanSeries(this.#connection, data, { provider, interval, symbol });
      if (scan.problems.length > 0) {
        throw new MarketDataError(
          'WRITER',
          `cannot stream into ${scan.dir}: ${describeProblems(scan.problems)}; move these files away`,
          { fatal: true },
        );
      }
      const lastMs = scan.checked.at(-1)?.[1];
      if (lastMs !== undefined) earliestLastMs = Math.min(earliestLastMs ?? lastMs, lastMs);
      this.#series.set(symbol, {
        scan,
        liveFromMs: undefined,
        chain: Promise.resolve(),
        pending: [],
      });
    }
    const stored = this.#options.symbols.filter((s) => this.#series.get(s)?.scan.checked.length);
    if (earliestLastMs !== undefined && stored.length > 0) {
      await this.#sync(stored, earliestLastMs + 1, undefined);
    }
  }

  async #sync(symbols: string[], fromMs: number, toMs: number | undefined): Promise<void> {
    const { data, provider, interval } = this.#options;
    const summary = await syncDataset({
      data,
      provider,
      interval,
      symbols,
      from: new Date(fromMs),
      ...(toMs !== undefined ? { to: new Date(toMs) } : {}),
      ...(this.#options.providerOptions ? { providerOptions: this.#options.providerOptions } : {}),
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
    });
    const failed = summary.symbols.find((s) => s.error);
    if (failed?.error) {
      throw new MarketDataError(
        'WRITER',
        `catching up ${failed.symbol} before streaming failed: ${failed.error.message}`,
        { fatal: true },
      );
    }
    for (const symbol of symbols) {
      const state = this.#series.get(symbol);
      if (state && this.#connection) {
        state.scan = await scanSeries(this.#connection, data, state.scan.key);
      }
    }
  }

  /**
   * Publishes `bar` (a closed bar of one of the symbols) into its month file; resolves once it is
   * durable. Bars arriving while a publish runs are published together with the next one.
   */
  async write(bar: MarketData): Promise<void> {
    const state = this.#series.get(bar.symbol);
    if (!state) {
      throw new MarketDataError('WRITER', `${bar.symbol} is not one of the dataset's symbols`, {
        fatal: true,
      });
    }
    const openMs = bar.time.getTime();
    if (state.liveFromMs === undefined) {
      const checkedEndMs = state.scan.checked.at(-1)?.[1];
      if (checkedEndMs !== undefined && checkedEndMs < openMs - 1) {
        // The bars that closed between the sync at open() and this first live bar.
        await this.#sync([bar.symbol], checkedEndMs + 1, openMs - 1);
      }
      state.liveFromMs = Math.min(openMs, (state.scan.checked.at(-1)?.[1] ?? openMs - 1) + 1);
    }
    const key = state.scan.key;
    state.pending.push(
      bar.id === '' ? { ...bar, id: `${key.symbol}-${key.interval}-${openMs}` } : bar,
    );
    const run = state.chain.then(() => this.#publish(state));
    state.chain = run.catch(() => undefined);
    await run;
  }

  async #publish(state: SeriesState): Promise<void> {
    if (state.pending.length === 0) return;
    const bars = state.pending;
    state.pending = [];
    const byMonth = new Map<string, MarketData[]>();
    for (const bar of bars) {
      const month = monthKeyOf(bar.time.getTime());
      const list = byMonth.get(month) ?? [];
      if (list.length === 0) byMonth.set(month, list);
      list.push(bar);
    }
    const key: SeriesKey = state.scan.key;
    for (const [month, monthBars] of byMonth) {
      const range = monthRangeMs(month);
      const existing = state.scan.months.get(month);
      const lastMs = (monthBars.at(-1) as MarketData).time.getTime();
      const fresh = clipRanges(
        [[state.liveFromMs ?? lastMs, lastMs]],
        range.startMs,
        range.endMs - 1,
      );
      const meta: MonthMeta = {
        ...key,
        checked: mergeRanges([...(existing?.meta.checked ?? []), ...fresh]),
      };
      const path = monthFilePath(this.#options.data, key, month);
      await writeMonthFile(
        this.#connection as DuckDBConnection,
        path,
        meta,
        monthBars,
        existing?.path,
      );
      state.scan.months.set(month, {
        path,
        meta,
        rows: (existing?.rows ?? 0) + monthBars.length,
        ...(existing?.firstMs !== undefined ? { firstMs: existing.firstMs } : {}),
        lastMs,
      });
    }
    state.scan.checked = mergeRanges([
      ...state.scan.checked,
      [state.liveFromMs ?? 0, (bars.at(-1) as MarketData).time.getTime()],
    ]);
  }

  /** Waits for publishes in flight and releases the database. */
  async close(): Promise<void> {
    await Promise.all([...this.#series.values()].map((s) => s.chain));
    this.#db.close();
  }
}
