import type { Counter, Histogram, Registry } from 'prom-client';
import { counterIn, histogramIn } from './families.js';

/** The writers' `metrics` option: a prom-client Registry the caller owns and exposes. */
export interface WriterMetricsOption {
  /** Register the writer's `argo_writer_*` series here; default: nothing is measured. */
  metrics?: Registry | undefined;
}

type WriterLabel = 'writer' | 'venue' | 'interval';

/**
 * Durability of one writer: bars made durable, commits (transactions, or the Parquet file of a
 * download), commit latency and failed commits. Labels: `writer` (`streaming-duckdb`, `duckdb`),
 * `venue` and `interval` (empty for a download writer, which does not know them).
 */
export class WriterMetrics {
  readonly #bars: Counter.Internal;
  readonly #commits: Counter.Internal;
  readonly #failures: Counter.Internal;
  readonly #latency: Histogram.Internal<WriterLabel>;

  constructor(registry: Registry, labels: Record<WriterLabel, string>) {
    const names = ['writer', 'venue', 'interval'] as const;
    this.#bars = counterIn(
      registry,
      'argo_writer_durable_bars_total',
      'Bars the writer made durable (committed to the DuckDB store, or in the published Parquet file).',
      names,
    ).labels(labels);
    this.#commits = counterIn(
      registry,
      'argo_writer_commits_total',
      'Durable commits: store transactions (group commits), or Parquet files published.',
      names,
    ).labels(labels);
    this.#failures = counterIn(
      registry,
      'argo_writer_commit_failures_total',
      'Commits that failed (their bars were rejected to the caller).',
      names,
    ).labels(labels);
    this.#latency = histogramIn(
      registry,
      'argo_writer_commit_seconds',
      'Duration of one durable commit, in seconds.',
      names,
    ).labels(labels);
  }

  /** A commit of `bars` bars that took `seconds` succeeded. */
  committed(bars: number, seconds: number): void {
    this.#bars.inc(bars);
    this.#commits.inc();
    this.#latency.observe(seconds);
  }

  failed(): void {
    this.#failures.inc();
  }
}

/** Times `commit` into `metrics` (bars on success, a failure otherwise); rethrows its error. */
export async function timedCommit<T>(
  metrics: WriterMetrics | undefined,
  bars: number,
  commit: () => Promise<T>,
): Promise<T> {
  if (metrics === undefined) return commit();
  const startMs = performance.now();
  try {
    const result = await commit();
    metrics.committed(bars, (performance.now() - startMs) / 1000);
    return result;
  } catch (error) {
    metrics.failed();
    throw error;
  }
}
